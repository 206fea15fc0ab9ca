"""The default word lists: cue phrases and stop words, English and Chinese.

They are data, not code (DESIGN.md: default keyword lists live in resources/), so they sit as
text in ``resources/chapters/``: one entry a line, UTF-8, blank lines and lines starting with
``#`` skipped. Each file is read once per process.
"""

from __future__ import annotations

from functools import lru_cache

from resources import RESOURCES_DIR

WORDS_DIR = RESOURCES_DIR / "chapters"


@lru_cache
def word_list(name: str) -> tuple[str, ...]:
    """The entries of ``resources/chapters/<name>.txt``, in file order."""
    lines = (line.strip() for line in (WORDS_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def cues_en() -> tuple[str, ...]:
    """English phrases that open a new topic ("moving on", "next item")."""
    return word_list("cues_en")


def cues_zh() -> tuple[str, ...]:
    """Chinese phrases that open a new topic ("下一个议题", "接下来")."""
    return word_list("cues_zh")


@lru_cache
def stop_en() -> frozenset[str]:
    """English words that never name a topic: function words and the fillers of talk."""
    return frozenset(word_list("function_words_en")) | frozenset(word_list("fillers_en"))


@lru_cache
def stop_zh() -> frozenset[str]:
    """Chinese words (as jieba cuts them) that never name a topic."""
    return frozenset(word_list("stop_zh"))
