"""Reading a transcript JSON back (``minutes export``), refusing anything that is not one of ours.

A transcript may have been edited by hand, cut short by a full disk, or be some other JSON
altogether. Each of those gets one line that says which, instead of a traceback from deep in
an exporter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.atomic import read_bytes
from engine.errors import MinutesError
from engine.transcript import SCHEMA_VERSION, Transcript


class TranscriptError(MinutesError):
    """The file is not a readable Minutes transcript."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_word(w: Any) -> bool:
    if not isinstance(w, dict):
        return False
    return _is_number(w.get("start")) and _is_number(w.get("end")) and isinstance(w.get("word"), str)


def _check(d: Any) -> str | None:
    """What is wrong with ``d`` as a transcript (DESIGN.md schema), or None."""
    if not isinstance(d, dict):
        return "it holds a JSON " + type(d).__name__.replace("dict", "object") + ", not a transcript object"
    missing = [k for k in ("audio", "model", "segments") if k not in d]
    if missing:
        return f"it has no {', '.join(repr(k) for k in missing)}"
    version = d.get("version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        return f"it is transcript version {version!r}, newer than this Minutes reads ({SCHEMA_VERSION}): update Minutes"
    audio, model = d["audio"], d["model"]
    if not isinstance(audio, dict) or not isinstance(audio.get("path"), str) or not _is_number(audio.get("duration")):
        return "'audio' needs a 'path' and a numeric 'duration'"
    if not isinstance(model, dict) or not all(isinstance(model.get(k), str) for k in ("name", "precision", "device")):
        return "'model' needs 'name', 'precision' and 'device'"
    for key in ("segments", "speakers", "chapters"):
        if not isinstance(d.get(key, []), list):
            return f"'{key}' is not a list"
    for n, s in enumerate(d["segments"], 1):
        if not isinstance(s, dict) or not (_is_number(s.get("start")) and _is_number(s.get("end"))):
            return f"segment {n} has no numeric 'start' and 'end'"
        if not isinstance(s.get("text"), str):
            return f"segment {n} has no 'text'"
        if s.get("speaker") is not None and not isinstance(s["speaker"], str):
            return f"segment {n} has a 'speaker' that is not a string"
        words = s.get("words", [])
        if not isinstance(words, list) or not all(_is_word(w) for w in words):
            return f"segment {n} has malformed 'words'"
    for n, sp in enumerate(d.get("speakers", []), 1):
        if not isinstance(sp, dict) or not isinstance(sp.get("id"), str) or not isinstance(sp.get("name"), str):
            return f"speaker {n} needs an 'id' and a 'name'"
    for n, c in enumerate(d.get("chapters", []), 1):
        if not isinstance(c, dict) or not (_is_number(c.get("start")) and _is_number(c.get("end"))):
            return f"chapter {n} has no numeric 'start' and 'end'"
        if not isinstance(c.get("title"), str) or not isinstance(c.get("keywords", []), list):
            return f"chapter {n} needs a 'title' and a list of 'keywords'"
    return None


def read_transcript(path: str | os.PathLike[str]) -> Transcript:
    """The transcript in ``path``; TranscriptError (one line) when it is missing, cut short or not ours."""
    path = Path(path)
    raw = read_bytes(path, "a transcript file", TranscriptError)
    if not raw.strip():
        raise TranscriptError(f"'{path}' is empty: expected a Minutes transcript (JSON).")
    try:
        text = raw.decode("utf-8-sig")
        d = json.loads(text)
    except UnicodeDecodeError:
        raise TranscriptError(f"'{path}' is not a Minutes transcript: it is not UTF-8 text.") from None
    except json.JSONDecodeError as e:
        cut = e.pos >= len(text.rstrip()) - 1 or e.msg.startswith("Unterminated string")
        why = "it ends in the middle (truncated?)" if cut else f"invalid JSON at line {e.lineno}, column {e.colno}"
        raise TranscriptError(f"'{path}' is not a readable transcript: {why}.") from None
    problem = _check(d)
    if problem:
        raise TranscriptError(f"'{path}' is not a Minutes transcript: {problem}.")
    return Transcript.from_dict(d)
