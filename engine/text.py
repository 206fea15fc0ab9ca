"""Joining words and sentences: the one place that knows which writing has no spaces.

Two questions come up everywhere a transcript is put together or shown: does a space go
between these two pieces, and does this piece end a sentence. Files, live, speakers,
chapters, the Library and the exporters all ask them; the answers live here so they agree.

By language (what the recognizer reports) for words of one segment; by character where
pieces of unknown language meet (paragraphs, subtitles), with the same scripts in both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Languages written without spaces between words: words and segments are joined with "".
NO_SPACE_LANGUAGES = frozenset({"zh", "yue", "ja", "th", "lo", "my"})

# Characters of those scripts (Han, kana, bopomofo, CJK punctuation and fullwidth forms, Thai,
# Lao, Myanmar). Hangul is left out on purpose: Korean separates words with spaces.
_NO_SPACE_CHARS = (
    "\u0e00-\u0eff\u1000-\u109f"
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0002fa1f"
)
_NO_SPACE_RE = re.compile(f"[{_NO_SPACE_CHARS}]")

# What ends a sentence, in the scripts Whisper writes.
SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?…。！？])\s*")


def no_space(language: str | None) -> bool:
    """True when words of ``language`` are written without spaces between them."""
    return language in NO_SPACE_LANGUAGES


def is_no_space_char(ch: str) -> bool:
    """True for characters of scripts that put no spaces between words, so joins add none."""
    return bool(ch) and _NO_SPACE_RE.match(ch) is not None


def join_words(words: Iterable[str], language: str | None) -> str:
    """One line of text from words. Whisper's words carry their leading space (" hello", and
    "," or "s" that continue a word carry none), so they are concatenated; words that carry
    no space at all (from another tool's JSON) are joined with one."""
    words = list(words)
    if no_space(language):
        return "".join(w.strip() for w in words)
    if not any(w[:1].isspace() for w in words):
        return " ".join(w.strip() for w in words if w.strip())
    return "".join(words).strip()


def join_text(left: str, right: str) -> str:
    """Join two pieces of prose with one space, or none where either side is a no-space script."""
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left or right
    if is_no_space_char(left[-1]) or is_no_space_char(right[0]):
        return left + right
    return f"{left} {right}"


def ends_sentence(text: str) -> bool:
    """True when ``text`` (a word or a line) ends with sentence-final punctuation."""
    return text.strip().endswith(SENTENCE_END)
