"""What every `minutes` command shares: exit statuses, one-line messages, format and folder checks.

The commands (app/cli.py's transcribe, app/export_cmd.py, app/live_cmd.py, app/cli_voices.py,
app/cli_data.py) import from here and never from each other; app/cli.py, the entry point,
imports the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.errors import MinutesError

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # bad input (file, model, device, option): one line says what is wrong
EXIT_CANCELLED = 130  # Ctrl-C, as a shell reports SIGINT

OVERWRITE_HINT = " (--overwrite replaces it)"  # how a kept result is replaced, for "kept X: ..." lines


def fail(message: str) -> None:
    """An error the user can act on, as one line on stderr."""
    print(f"minutes: error: {message}", file=sys.stderr)


def say(message: str) -> None:
    """A one-line note on stderr (e.g. that a result went to another name)."""
    print(f"minutes: {message}", file=sys.stderr)


def formats_or_fail(text: str) -> list[str] | None:
    """The ``-f`` formats, or None after telling the user which are unknown (exit 2 follows)."""
    try:
        return parse_formats(text)
    except MinutesError as e:
        fail(str(e))
        return None


def parse_formats(text: str) -> list[str]:
    """Formats from ``"docx, srt"``; MinutesError names the unknown ones."""
    from engine.export import FORMATS

    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise MinutesError(f"unknown output format '{','.join(bad)}': choose from {', '.join(FORMATS)}.")
    return list(dict.fromkeys(formats))


def output_dir(name: str | None) -> Path | None:
    """The output folder, created if missing; MinutesError when it cannot be."""
    if not name:
        return None
    folder = Path(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinutesError(f"cannot create output folder '{folder}': {e.strerror or e}.") from None
    return folder
