"""A transcript as sentences of content terms: what every other part of chapters compares.

English words are lower-cased, stop words dropped and suffixes lightly stripped; Chinese is
cut into words with jieba or into character bigrams (the ``zh_tokenizer`` argument; jieba by
default, bench/chapters.py measures both). Terms are chosen by script, so mixed text works.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from engine.chapters.wordlists import cues_en, cues_zh, stop_en, stop_zh
from engine.text import SENTENCE_SPLIT, ends_sentence
from engine.transcript import Segment

ZhTokenizer = Literal["jieba", "bigram"]
ZH_TOKENIZERS: tuple[ZhTokenizer, ...] = ("jieba", "bigram")
DEFAULT_ZH_TOKENIZER: ZhTokenizer = "jieba"

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # Han: cut by jieba or bigrams
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9][A-Za-z0-9'’]*(?:-[A-Za-z0-9'’]+)*")


@dataclass
class Sentence:
    start: float
    end: float
    text: str
    tokens: list[str] = field(default_factory=list)  # content terms (stems, Chinese words)
    surface: dict[str, str] = field(default_factory=dict)  # term -> a form as spoken


def check_zh_tokenizer(name: str) -> ZhTokenizer:
    """``name`` if it is a Chinese tokenizer this module knows; a typo fails here, not later."""
    if name not in ZH_TOKENIZERS:
        raise ValueError(f"unknown Chinese tokenizer {name!r}: use one of {', '.join(ZH_TOKENIZERS)}")
    return name  # type: ignore[return-value]


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed and a final e, so "hiring" meets "hire"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsfz":
                w = w[:-1]  # planned -> plan
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def _zh_terms(run: str, zh_tokenizer: ZhTokenizer) -> list[str]:
    if check_zh_tokenizer(zh_tokenizer) == "bigram":
        return [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else []
    import jieba

    jieba.setLogLevel(logging.WARNING)
    stop = stop_zh()
    return [w for w in jieba.lcut(run) if len(w) > 1 and w not in stop]


def tokenize(text: str, zh_tokenizer: ZhTokenizer = DEFAULT_ZH_TOKENIZER) -> list[tuple[str, str]]:
    """Content terms of a text as (term, surface form): English stems, Chinese words."""
    stop = stop_en()
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        piece = m.group(0)
        if CJK.match(piece):
            out += [(t, t) for t in _zh_terms(piece, zh_tokenizer)]
            continue
        whole = piece.lower().replace("’", "'")
        for part in whole.split("-"):  # "on-call" meets "on call"; it is shown as said
            low = part.strip("'")
            if low.endswith("'s"):
                low = low[:-2]  # the possessive: "document's" is "document"
            if len(low) < 3 or low in stop or low.isdigit() or "'" in low:
                continue  # "'" left: a contraction (you've, we're), never a topic
            term = stem(low)
            if term in stop or len(term) < 3:
                continue
            out.append((term, whole if "-" in whole else low))
    return out


def _segment_sentences(seg: Segment) -> list[tuple[float, float, str]]:
    """A segment cut at sentence ends, timed by its words when they still match the text.

    Sentence ends are engine.text's (with "…", which chapters once left out); on the stored
    bench set Pk and WindowDiff did not move when this module took them over.
    """
    words = [w for w in seg.words if w.word.strip()]
    if words and re.sub(r"\s", "", "".join(w.word for w in words)) == re.sub(r"\s", "", seg.text):
        out, cur = [], []
        for w in words:
            cur.append(w)
            if ends_sentence(w.word):
                out.append((cur[0].start, cur[-1].end, "".join(x.word for x in cur).strip()))
                cur = []
        if cur:
            out.append((cur[0].start, cur[-1].end, "".join(x.word for x in cur).strip()))
        return out
    parts = [p for p in SENTENCE_SPLIT.split(seg.text.strip()) if p.strip()]
    total = sum(len(p) for p in parts) or 1
    t, span, out = float(seg.start), max(0.0, float(seg.end) - float(seg.start)), []
    for p in parts:
        d = span * len(p) / total
        out.append((t, t + d, p.strip()))
        t += d
    return out


def sentences(segments: Iterable[Segment], zh_tokenizer: ZhTokenizer = DEFAULT_ZH_TOKENIZER) -> list[Sentence]:
    """The transcript as sentences with their content terms, in time order."""
    out = []
    for seg in sorted(segments, key=lambda s: s.start):
        for start, end, text in _segment_sentences(seg):
            terms = tokenize(text, zh_tokenizer)
            surface: dict[str, str] = {}
            for term, form in terms:
                surface.setdefault(term, form)
            out.append(Sentence(float(start), float(end), text, [t for t, _ in terms], surface))
    return out


def opens_with_cue(text: str) -> bool:
    """True when a sentence opens with a phrase that turns to a new topic ("moving on")."""
    head = text.lower().replace("’", "'")
    if CJK.search(head[:2]):
        return any(cue in head[:12] for cue in cues_zh())
    head = " ".join(re.findall(r"[a-z']+", head)[:8])
    return any(re.search(rf"\b{re.escape(cue)}\b", head) for cue in cues_en())
