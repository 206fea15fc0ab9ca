"""Writing transcripts out: JSON, plain text, SRT, WebVTT, RTTM and Word (.docx).

One entry point for the CLI and the GUI, so both report the same errors and both write
files atomically: a failed export never leaves a half-written file nor destroys the good
file already there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.atomic import write_bytes_atomic, write_text_atomic
from engine.errors import MinutesError
from engine.export import docx, json_writer, rttm, srt, txt, vtt
from engine.transcript import Transcript

FORMATS = ("json", "txt", "srt", "vtt", "rttm", "docx")

_RENDERERS: dict[str, Callable[..., str | bytes]] = {
    "json": json_writer.render,
    "txt": txt.render,
    "srt": srt.render,
    "vtt": vtt.render,
    "rttm": rttm.render,
    "docx": docx.render,  # bytes: a zip of XML parts
}


def _renderer(fmt: str) -> Callable[..., str | bytes]:
    key = str(fmt).lower().lstrip(".")
    if key not in _RENDERERS:
        raise MinutesError(f"Unknown output format '{fmt}': choose from {', '.join(FORMATS)}.")
    return _RENDERERS[key]


def render(transcript: Transcript, fmt: str, **options: Any) -> str | bytes:
    """The transcript in ``fmt``: text, or bytes for ``docx``; options go to the format.

    ``txt`` takes ``timestamps=True``; ``docx`` takes ``times``, ``speakers``, ``title``, ``date``.
    """
    return _renderer(fmt)(transcript, **options)


def write(transcript: Transcript, fmt: str, path: str | os.PathLike[str], **options: Any) -> Path:
    """Export the transcript to ``path`` in ``fmt``; MinutesError says what to do on failure."""
    data = render(transcript, fmt, **options)
    if isinstance(data, bytes):
        return write_bytes_atomic(path, data)
    return write_text_atomic(path, data)


__all__ = ["FORMATS", "render", "write", "write_bytes_atomic", "write_text_atomic"]
