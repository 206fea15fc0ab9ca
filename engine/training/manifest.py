"""Training data as a JSONL manifest: one utterance a line, and the train/dev split.

The line format is the one NeMo and most ASR toolkits read, so a manifest made elsewhere works
here and ours works there: ``{"audio_filepath": ..., "text": ..., "duration": ...}`` with optional
``language`` and ``speaker``. ``audio_filepath`` is relative to the manifest's folder (a dataset
folder can be moved or shared whole) or absolute. In memory it is always absolute.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import read_bytes, write_text_atomic
from engine.errors import MinutesError

FIELDS = ("audio_filepath", "text", "duration")  # required on every line


class ManifestError(MinutesError):
    """The manifest cannot be used at all (missing, empty, not text): one line says why."""


@dataclass
class Utterance:
    audio_filepath: Path  # absolute
    text: str
    duration: float  # seconds
    language: str | None = None
    speaker: str | None = None

    def to_dict(self, root: Path) -> dict[str, Any]:
        """The manifest line's object; the path relative to ``root`` when the audio is inside it."""
        path = Path(os.path.normpath(Path(self.audio_filepath).absolute()))
        root = Path(os.path.normpath(Path(root).absolute()))
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        d: dict[str, Any] = {"audio_filepath": shown, "text": self.text, "duration": round(float(self.duration), 3)}
        for key in ("language", "speaker"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


@dataclass
class Manifest:
    path: Path
    utterances: list[Utterance] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line number of each utterance

    @property
    def duration(self) -> float:
        return sum(u.duration for u in self.utterances)


@dataclass
class LineProblem:
    """What is wrong with one line as a manifest line, and what to do about it."""

    problem: str
    hint: str


NOT_UTF8 = LineProblem("not UTF-8 text", "save the manifest as UTF-8")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def parse_line(text: str | None, root: Path) -> tuple[Utterance | None, list[LineProblem]]:
    """One manifest line as an utterance (None when it cannot be one), and its problems of form."""
    if text is None:
        return None, [NOT_UTF8]
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        what = f"not valid JSON ({e.msg}, column {e.colno})"
        return None, [LineProblem(what, "make it one JSON object, or delete it")]
    if not isinstance(d, dict):
        return None, [LineProblem("not a JSON object", 'write {"audio_filepath": ..., "text": ..., "duration": ...}')]
    missing = [k for k in FIELDS if k not in d]
    problems = []
    if missing:
        names = ", ".join(f"'{k}'" for k in missing)
        problems.append(LineProblem(f"missing {names}", "add them, or run minutes data import to write the manifest"))
    path, words, seconds = d.get("audio_filepath"), d.get("text"), d.get("duration")
    if "audio_filepath" in d and not (isinstance(path, str) and path.strip()):
        problems.append(LineProblem("'audio_filepath' is not a file name", "give the audio file's path as a string"))
    if "text" in d and not isinstance(words, str):
        problems.append(LineProblem("'text' is not a string", "give the transcript of the clip as a string"))
    if "duration" in d and not (_is_number(seconds) and math.isfinite(seconds) and seconds > 0):
        problems.append(LineProblem("'duration' is not a positive number", "give the clip's length in seconds"))
    for key in ("language", "speaker"):
        if d.get(key) is not None and not isinstance(d[key], str):
            problems.append(LineProblem(f"'{key}' is not a string", f"give '{key}' as a string, or leave it out"))
    if problems:
        return None, problems
    audio = Path(path)
    audio = Path(os.path.normpath(audio if audio.is_absolute() else root / audio))
    utt = Utterance(audio, words, float(seconds), d.get("language") or None, d.get("speaker") or None)
    return utt, []


def _decode(line: bytes) -> str | None:
    try:
        return line.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return None


def manifest_lines(path: str | os.PathLike[str]) -> list[tuple[int, str | None]]:
    """(line number, text) of each non-blank line, None for a line that is not UTF-8 (one bad line
    is a problem to report, not the end); ManifestError when the file cannot be used at all."""
    path = Path(path)
    raw = read_bytes(path, "a manifest (.jsonl)", ManifestError)
    lines = [(n, _decode(line)) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    if not lines:
        raise ManifestError(f"'{path}' is empty: a manifest has one JSON utterance a line (minutes data import).")
    return lines


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The utterances of a manifest; ManifestError at the first line that is not one
    (``minutes data check`` lists them all)."""
    path = Path(path)
    root = path.parent.absolute()
    out = Manifest(path)
    for n, text in manifest_lines(path):
        utt, problems = parse_line(text, root)
        if utt is None:
            p = problems[0]
            raise ManifestError(f"'{path}' line {n}: {p.problem}: {p.hint} (minutes data check lists every problem).")
        out.utterances.append(utt)
        out.lines.append(n)
    return out


def write_manifest(path: str | os.PathLike[str], utterances: list[Utterance]) -> Path:
    """Write ``utterances`` as JSONL, atomically (a reader never sees half a manifest)."""
    path = Path(path)
    root = path.parent.absolute()
    text = "".join(json.dumps(u.to_dict(root), ensure_ascii=False) + "\n" for u in utterances)
    return write_text_atomic(path, text)


# ----------------------------------------------------------------------------- train/dev split


@dataclass
class Split:
    train: list[Utterance]
    dev: list[Utterance]
    by_speaker: bool  # False: by utterance (speakers unknown, or only one)


def split_manifest(utterances: list[Utterance], dev_fraction: float, seed: int = 0) -> Split:
    """About ``dev_fraction`` of the audio (by duration) for the dev set, the same for the same seed.

    When speakers are known the split is by speaker: nobody is on both sides, so the dev WER
    measures voices the model has not learnt (an utterance without a speaker is its own group).
    With fewer than two speakers it is by utterance. Order within each side is kept.
    """
    if not 0 <= dev_fraction < 1:
        raise MinutesError(f"The dev fraction must be at least 0 and below 1, not {dev_fraction}.")
    speakers = {u.speaker for u in utterances if u.speaker}
    by_speaker = len(speakers) >= 2
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(utterances):
        key = f"speaker:{u.speaker}" if by_speaker and u.speaker else f"utterance:{i}"
        groups.setdefault(key, []).append(i)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    weight = {k: sum(max(utterances[i].duration, 1e-3) for i in groups[k]) for k in keys}
    target = dev_fraction * sum(weight.values())
    dev_keys: set[str] = set()
    taken = 0.0
    for k in keys:  # take a group when it brings the dev share closer to the target
        if abs(taken + weight[k] - target) < abs(taken - target) and len(dev_keys) < len(keys) - 1:
            dev_keys.add(k)
            taken += weight[k]
    if dev_fraction > 0 and not dev_keys and len(keys) > 1:  # every group is bigger than the target
        dev_keys.add(min(keys, key=lambda k: weight[k]))
    dev_index = {i for k in dev_keys for i in groups[k]}
    return Split(
        [u for i, u in enumerate(utterances) if i not in dev_index],
        [u for i, u in enumerate(utterances) if i in dev_index],
        by_speaker,
    )
