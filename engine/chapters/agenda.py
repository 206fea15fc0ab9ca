"""Agenda mode: items seeded by their words, learnt from the talk, assigned by Viterbi.

``"budget; hiring, candidates"``: ``;`` or new lines separate the items, ``,`` synonyms of one
item. Mentions of an item's words seed it; each item's vocabulary is then learnt from the talk
around those mentions (so "interviewed three engineers" belongs to "hiring"), and a Viterbi pass
assigns every sentence to an item, paying a price for each change of topic (a lower one for
moving on to the next item of the agenda). Items never mentioned get no chapter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.chapters.text import CJK, DEFAULT_ZH_TOKENIZER, Sentence, ZhTokenizer, stem, tokenize
from engine.chapters.tfidf import normalize_rows, tfidf
from engine.chapters.tuning import MIN_CHAPTER_SECONDS, SWITCH_PENALTY

Agenda = str | Sequence[str] | Sequence[Sequence[str]] | None  # what parse_agenda reads


@dataclass
class AgendaItem:
    title: str
    terms: list[str]  # content terms of the item and its synonyms


def parse_agenda(keywords: Agenda, zh_tokenizer: ZhTokenizer = DEFAULT_ZH_TOKENIZER) -> list[AgendaItem]:
    """``"budget; hiring, candidates"`` or ``["budget", ["hiring", "candidates"]]`` -> items."""
    if not keywords:
        return []
    if isinstance(keywords, str):
        raw: list[list[str]] = [[w.strip() for w in item.split(",")] for item in re.split(r"[;\n；]", keywords)]
    else:
        raw = [[item] if isinstance(item, str) else list(item) for item in keywords]
    items = []
    for words in raw:
        words = [w.strip() for w in words if w and w.strip()]
        if not words:
            continue
        terms: list[str] = []
        for w in words:
            found = [t for t, _ in tokenize(w, zh_tokenizer)]
            if not found and w.strip():  # a stop word such as "time" as the whole item: keep it
                found = [stem(w.lower())] if not CJK.search(w) else [w]
            terms += [t for t in found if t not in terms]
        title = words[0][:1].upper() + words[0][1:]  # a heading, as typed otherwise ("GPU cluster")
        items.append(AgendaItem(title, terms))
    return items


def _viterbi(emit: np.ndarray, penalty: float, start_ban: int | None = None, min_run: int = 1) -> np.ndarray:
    """Best item per sentence: emissions summed, ``penalty`` per change (1.5x if out of agenda
    order), and no item left before it has held ``min_run`` sentences (each item is a chain of
    ``min_run`` states, so the decoder itself never cuts a topic into slivers)."""
    n, k = emit.shape
    m = max(1, min(min_run, n))
    trans = np.full((k, k), -1.5 * penalty)
    for i in range(k):
        trans[i, i] = -np.inf  # staying is the chain below, not a switch
        if i + 1 < k:
            trans[i, i + 1] = -penalty
    score = np.full((k, m), -np.inf)  # score[item, sentences held so far - 1, capped]
    score[:, 0] = emit[0] - 0.5 * penalty * np.arange(k) / max(1, k)  # meetings start at the top of the agenda
    if start_ban is not None and k > 1:
        score[start_ban, 0] = -np.inf
    # back[j, item, c]: the (item, c) state of sentence j - 1 on the best way into it
    back = np.zeros((n, k, m, 2), dtype=np.int32)
    for j in range(1, n):
        new = np.full((k, m), -np.inf)
        b = np.zeros((k, m, 2), dtype=np.int32)
        items = np.arange(k)
        if m > 1:
            new[:, 1:] = score[:, :-1]
            b[:, 1:, 0] = items[:, None]
            b[:, 1:, 1] = np.arange(m - 1)[None, :]
        stay = score[:, m - 1] > new[:, m - 1]
        new[stay, m - 1] = score[stay, m - 1]
        b[stay, m - 1] = np.stack([items[stay], np.full(stay.sum(), m - 1)], axis=1)
        cand = score[:, m - 1][:, None] + trans  # a finished item hands over to another
        new[:, 0] = cand.max(axis=0)
        b[:, 0, 0] = cand.argmax(axis=0)
        b[:, 0, 1] = m - 1
        score = new + emit[j][:, None]
        back[j] = b
    done = score[:, m - 1]
    item, c = (int(done.argmax()), m - 1) if np.isfinite(done).any() else np.unravel_index(score.argmax(), score.shape)
    path = np.zeros(n, dtype=int)
    path[-1] = item
    for j in range(n - 1, 0, -1):
        item, c = back[j, item, c]
        path[j - 1] = item
    return path


def _window(x: np.ndarray, half: int) -> np.ndarray:
    """Each row summed with its ``half`` neighbours on either side (a sentence's context)."""
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    n = x.shape[0]
    idx = np.arange(n)
    lo, hi = np.maximum(0, idx - half), np.minimum(n, idx + half + 1)
    return c[hi] - c[lo]


def _agenda_path(
    sents: Sequence[Sentence], items: Sequence[AgendaItem], start_ban: int | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The item of each sentence and the evidence for it (sentences x items), or None if no item is named."""
    x, vocab = tfidf(sents)
    if x is None:
        return None
    dense = x.toarray()
    k = len(items)
    n = len(sents)
    df = np.asarray((dense > 0).sum(axis=0)).ravel()
    query = np.zeros((k, dense.shape[1]))
    said = np.zeros(k)  # weight of each item's words, said or not
    for i, item in enumerate(items):
        for t in item.terms:
            idf = math.log((1 + n) / (1 + (df[vocab[t]] if t in vocab else 0))) + 1.0
            said[i] += idf
            if t in vocab:
                query[i, vocab[t]] = idf
    if not query.any():
        return None
    ctx = normalize_rows(_window(dense, 1))
    # how much of each item is named in each sentence: "new" alone names "new monitors" weakly
    mentions = (dense > 0).astype(float) @ query.T / np.maximum(said, 1e-9)
    # seed: the item's words said around here; refine: the vocabulary of the sentences it won
    emit = _window(mentions, 1)
    emit = emit / max(emit.max(), 1e-9)
    per = max(1.0, (sents[-1].end - sents[0].start) / len(sents))  # seconds a sentence
    min_run = max(1, int(MIN_CHAPTER_SECONDS / per))  # sentences in the shortest chapter
    path = _viterbi(emit, SWITCH_PENALTY, start_ban, min_run)
    for _ in range(3):
        profiles = np.zeros_like(query)
        for i in range(k):
            mask = path == i
            if mask.any():
                profiles[i] = normalize_rows(dense[mask].sum(axis=0, keepdims=True))[0]
        profiles = normalize_rows(profiles + normalize_rows(query))
        rel = ctx @ profiles.T
        scale = np.median(rel.max(axis=1)) or 1.0
        emit = rel / scale + 0.5 * np.minimum(mentions, 1.0)
        new = _viterbi(emit, SWITCH_PENALTY * 2, start_ban, min_run)
        if np.array_equal(new, path):
            break
        path = new
    return path, emit


def _merge_short(
    path: np.ndarray, emit: np.ndarray, sents: Sequence[Sentence], min_seconds: float
) -> list[tuple[int, int]]:
    """Runs of one item as (first sentence, item). The shortest run under ``min_seconds`` takes
    the item of the neighbour its sentences fit better, until every run is long enough."""
    labels = path.copy()
    while True:
        starts = [0] + [j for j in range(1, len(labels)) if labels[j] != labels[j - 1]]
        ends = starts[1:] + [len(labels)]
        if len(starts) == 1:
            break
        lengths = [sents[e - 1].end - sents[b].start for b, e in zip(starts, ends)]
        r = int(np.argmin(lengths))
        if lengths[r] >= min_seconds:
            break
        b, e = starts[r], ends[r]
        options = [int(labels[b - 1])] if r else []
        if r + 1 < len(starts):
            options.append(int(labels[e]))
        labels[b:e] = max(options, key=lambda i: emit[b:e, i].sum())
    return [(0, int(labels[0]))] + [(j, int(labels[j])) for j in range(1, len(labels)) if labels[j] != labels[j - 1]]


def _snap_to_mentions(
    runs: list[tuple[int, int]], sents: Sequence[Sentence], items: Sequence[AgendaItem], reach: int = 3
) -> list[tuple[int, int]]:
    """Move each change of item to the first sentence near it that names the new item: the talk
    turns to "hiring" where someone says "hiring", not a sentence or two before or after."""
    out = list(runs)
    for r in range(1, len(out)):
        b, item = out[r]
        terms = set(items[item].terms)
        lo = max(out[r - 1][0] + 1, b - reach)
        hi = min(out[r + 1][0] if r + 1 < len(out) else len(sents), b + reach + 1)
        named = [j for j in range(lo, hi) if terms & set(sents[j].tokens)]
        if named:
            out[r] = (named[0], item)
    return out


def agenda_runs(
    sents: Sequence[Sentence], items: Sequence[AgendaItem], min_seconds: float, start_ban: str | None = None
) -> list[tuple[int, int]] | None:
    """Chapters by agenda item as (first sentence, item index), none shorter than ``min_seconds``;
    None when no item is mentioned. ``start_ban``: the title of the item the talk before
    ``sents`` was on (a live tail does not open with the chapter that just settled)."""
    ban = next((i for i, it in enumerate(items) if it.title == start_ban), None)
    found = _agenda_path(sents, items, ban)
    if found is None:
        return None
    return _snap_to_mentions(_merge_short(*found, sents, min_seconds), sents, items)
