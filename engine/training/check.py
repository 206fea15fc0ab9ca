"""Every problem of a training manifest, each with its line and what to do, before hours of training.

Bad lines are the rule in data gathered by hand: a clip renamed, a transcript pasted into the
wrong line, a recording of an hour. Training on them wastes the run or teaches the model to
invent text, so the checker names each one; it never stops at the first or crashes on any.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.errors import MinutesError
from engine.scoring import by_characters
from engine.training.manifest import Utterance, manifest_lines, parse_line

MAX_SECONDS = 30.0  # Whisper hears 30 s at a time; a longer clip is cut off in training
MAX_CHARS_PER_SECOND = 25.0  # fast speech is ~15-20; more means text and audio do not belong together
MAX_WORDS_PER_SECOND = 6.0
MAX_TOKENS = 448  # Whisper's decoder positions, for the text and the 5 tokens around it
_FRAME_TOKENS = 5  # start of transcript, language, task, no-timestamps; end of text
_PATHS = "relative to the manifest's folder, or absolute"
_CUT_HINT = "cut it into pieces of at most 30 s (minutes data import --transcript cuts a transcript at its segments)"


@dataclass
class Problem:
    line: int
    problem: str
    hint: str  # what to do


@lru_cache(maxsize=1)
def _tokenizer():  # -> engine.asr.tokenizer.Tokenizer | None
    from engine.asr.tokenizer import Tokenizer
    from engine.models.store import packaged_tokenizer

    try:
        return Tokenizer(packaged_tokenizer())
    except MinutesError:  # no packaged model: the token count is not checked
        return None


def _languages() -> set[str]:
    from engine.asr.tokenizer import LANGUAGE_NAMES

    tok = _tokenizer()
    return set(tok.languages) if tok else set(LANGUAGE_NAMES)


def _audio_seconds(path: Path) -> tuple[float | None, str | None]:
    """(duration, None) or (None, why the file cannot be used)."""
    from engine.audio.decode import probe

    if not path.exists():
        return None, f"audio file not found: {path}"
    try:
        return probe(path).duration, None
    except MinutesError as e:
        return None, f"audio cannot be read: {str(e).split(' — ')[0]}"  # its own hint is ours below


def _text_problems(u: Utterance, seconds: float) -> list[tuple[str, str]]:
    text = u.text.strip()
    if not text:
        return [("empty text", "write what is said in the clip, or remove the line")]
    out = []
    hint = "check that this text belongs to this clip (and that the clip is not cut short)"
    chars, words = len(text), len(text.split())
    room = max(seconds, 1.0)  # a word or two in a clip shorter than a second is not too long
    if chars > MAX_CHARS_PER_SECOND * room:
        out.append((f"text too long for the audio: {chars} characters in {seconds:.1f} s", hint))
    elif not by_characters(u.language, text) and words > MAX_WORDS_PER_SECOND * room:
        out.append((f"text too long for the audio: {words} words in {seconds:.1f} s", hint))
    tok = _tokenizer()
    if tok is not None:
        n = len(tok.encode(" " + text)) + _FRAME_TOKENS
        if n > MAX_TOKENS:
            what = f"text is {n} tokens, over Whisper's limit of {MAX_TOKENS}"
            out.append((what, "cut the clip and its text into shorter pieces"))
    return out


def check_utterance(u: Utterance, languages: set[str] | None = None) -> list[tuple[str, str]]:
    """(problem, what to do) for one utterance whose line is well formed: its audio and its text."""
    out = []
    actual, why = _audio_seconds(u.audio_filepath)
    if why:
        if u.audio_filepath.exists():
            out.append((why, "replace it with a playable copy (WAV or FLAC), or remove the line"))
        else:
            out.append((why, f"fix 'audio_filepath' ({_PATHS}), or remove the line"))
    seconds = actual if actual is not None else u.duration
    if seconds > MAX_SECONDS:
        out.append((f"clip is {seconds:.1f} s, over Whisper's {MAX_SECONDS:.0f} s", _CUT_HINT))
    if actual is not None and abs(actual - u.duration) > max(0.1, 0.01 * actual):
        out.append(
            (f"'duration' is {u.duration:.2f} s but the file holds {actual:.2f} s", f"set 'duration' to {actual:.2f}")
        )
    out += _text_problems(u, seconds)
    if u.language is not None and u.language not in (languages or _languages()):
        hint = "use a Whisper language code such as en or zh, or leave it out"
        out.append((f"unknown language '{u.language}'", hint))
    return out


def check_manifest(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of the manifest at ``path``, in line order; [] when it is ready to train on.

    Raises ManifestError only when the file cannot be used at all (missing, a folder, empty)."""
    path = Path(path)
    root = path.parent.absolute()
    problems: list[Problem] = []
    seen: dict[str, tuple[int, str]] = {}  # audio file -> (first line, its text)
    languages = _languages()
    for n, line in manifest_lines(path):
        utt, bad = parse_line(line, root)
        problems += [Problem(n, p.problem, p.hint) for p in bad]
        if utt is None:
            continue
        problems += [Problem(n, what, hint) for what, hint in check_utterance(utt, languages)]
        key = os.path.normcase(str(utt.audio_filepath.resolve()))
        text = " ".join(utt.text.split())
        if key in seen:
            first, first_text = seen[key]
            if first_text == text:
                problems.append(Problem(n, f"duplicate of line {first} (same audio and text)", "remove one of them"))
            else:
                problems.append(
                    Problem(n, f"same audio as line {first} with another text", "keep the right one, remove the other")
                )
        else:
            seen[key] = (n, text)
    return problems
