"""Automatic boundaries: TextTiling over TF-IDF blocks, helped by cue phrases.

Sentences are compared across each gap by blocks of about ``BLOCK_TOKENS`` content words on
either side; where lexical cohesion drops the depth score is high, and higher where a sentence
opens with a cue phrase ("moving on", "下一个议题"). Boundaries are kept from the deepest down,
never closer than the shortest chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.chapters.text import Sentence, opens_with_cue
from engine.chapters.tfidf import tfidf
from engine.chapters.tuning import BLOCK_TOKENS, CUE_BONUS


def _block_bounds(counts: np.ndarray, gap: int, size: int) -> tuple[int, int]:
    """Sentence indexes [lo, hi) holding about ``size`` content terms before/after ``gap``."""
    lo, acc = gap, 0
    while lo > 0 and acc < size:
        lo -= 1
        acc += counts[lo]
    hi, acc = gap, 0
    while hi < len(counts) and acc < size:
        acc += counts[hi]
        hi += 1
    return lo, hi


def depth_scores(sents: Sequence[Sentence], block_tokens: int = BLOCK_TOKENS) -> np.ndarray:
    """Depth of the cohesion valley at each gap (gap i lies before sentence i; gap 0 is unused)."""
    n = len(sents)
    x, _ = tfidf(sents)
    depth = np.zeros(n)
    if x is None or n < 3:
        return depth
    counts = np.array([len(s.tokens) for s in sents])
    sim = np.ones(n)
    for g in range(1, n):
        lo, hi = _block_bounds(counts, g, block_tokens)
        a = np.asarray(x[lo:g].sum(axis=0)).ravel()
        b = np.asarray(x[g:hi].sum(axis=0)).ravel()
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        sim[g] = float(a @ b / (na * nb)) if na and nb else 1.0
    sim[0] = sim[1] if n > 1 else 1.0
    smooth = sim.copy()
    smooth[1:-1] = (sim[:-2] + sim[1:-1] + sim[2:]) / 3 if n > 2 else sim[1:-1]
    for g in range(1, n):
        left = smooth[g]
        i = g
        while i > 1 and smooth[i - 1] >= left:
            i -= 1
            left = smooth[i]
        right = smooth[g]
        i = g
        while i < n - 1 and smooth[i + 1] >= right:
            i += 1
            right = smooth[i]
        depth[g] = (left - smooth[g]) + (right - smooth[g])
    return depth


def auto_boundaries(sents: Sequence[Sentence], min_seconds: float) -> list[int]:
    """Sentence indexes where a new chapter starts (the first chapter's 0 not included)."""
    n = len(sents)
    if n < 4:
        return []
    depth = depth_scores(sents)
    for g in range(1, n):
        if opens_with_cue(sents[g].text):
            depth[g] += CUE_BONUS
    cands = depth[1:]
    positive = cands[cands > 0]
    if not len(positive):
        return []
    cutoff = max(positive.mean() - positive.std() / 2, 0.05)
    chosen: list[int] = []
    for g in sorted(range(1, n), key=lambda i: -depth[i]):
        if depth[g] < cutoff:
            break
        t = sents[g].start
        if t - sents[0].start < min_seconds or sents[-1].end - t < min_seconds:
            continue
        if any(abs(t - sents[c].start) < min_seconds for c in chosen):
            continue
        chosen.append(g)
    return sorted(chosen)
