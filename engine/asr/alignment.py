"""Word-level timestamps from the alignment heads' cross-attention (DTW).

Speakers and subtitles are placed by words, so every word needs a start and an end. The
decoder graph returns the cross-attention weights of the heads known to follow the audio;
a monotonic path through them (dynamic time warping) gives each token's frame.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from engine.asr.runtime import OnnxWhisper, to_numpy
from engine.asr.tokenizer import Tokenizer
from engine.text import no_space

SECONDS_PER_POSITION = 0.02  # one encoder position = 20 ms
SAMPLES_PER_POSITION = 320  # at 16 kHz
PREPEND_PUNCT = "\"'“¿([{-"
APPEND_PUNCT = "\"'.。,，!！?？:：”)]}、"


@dataclass
class AlignedWord:
    word: str
    tokens: list[int]
    start: float
    end: float
    probability: float


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest monotonic path from (0, 0) to (N-1, M-1) with steps right, down, diagonal.

    Each row is one vectorised min-plus prefix scan, so the cost is O(N) numpy calls.
    """
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        x = cost[i - 1]
        # from above or the diagonal
        a = x + np.minimum(acc[i - 1, 1:], acc[i - 1, :-1])
        # then allow horizontal moves: acc[i, j] = min_k<=j (a[k] + sum(x[k+1..j]))
        s = np.cumsum(x)
        acc[i, 1:] = s + np.minimum.accumulate(a - s)
    # trace back from the end, preferring the diagonal on ties
    i, j = n, m
    rows, cols = [], []
    while i > 0 and j > 0:
        rows.append(i - 1)
        cols.append(j - 1)
        diag, up, left = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
        if diag <= up and diag <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
    return np.array(rows[::-1]), np.array(cols[::-1])


def _median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Median over the last axis with reflect padding (smooths attention spikes)."""
    if width <= 1 or x.shape[-1] < width:
        return x
    pad = width // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=-1)
    return np.median(windows, axis=-1)


def token_times(weights: np.ndarray, first_row: int, n_text: int, n_positions: int) -> np.ndarray:
    """Times (s) of the n_text + 1 token boundaries.

    ``weights`` [heads, rows, positions] cover the whole fed sequence (SOT sequence,
    no-timestamps, text, EOT); row ``first_row`` is the position that predicts the first
    text token, and the n_text rows after it predict the rest and the EOT.
    """
    w = weights[:, :, :n_positions].astype(np.float64)
    w = (w - w.mean(axis=-2, keepdims=True)) / (w.std(axis=-2, keepdims=True) + 1e-8)
    w = _median_filter(w, 7)
    matrix = w.mean(axis=0)[first_row : first_row + n_text + 1]
    rows, cols = dtw_path(-matrix)
    jumps = np.pad(np.diff(rows), (1, 0), constant_values=1).astype(bool)
    return cols[jumps] * SECONDS_PER_POSITION


def split_words(tok: Tokenizer, tokens: list[int], language: str) -> list[tuple[str, list[int]]]:
    """Group text tokens into words: at spaces, or per character for languages without spaces."""
    # Start from units that decode to whole characters (a token may hold half a UTF-8 char).
    units: list[tuple[str, list[int]]] = []
    pending: list[int] = []
    for t in tokens:
        pending.append(t)
        text = tok.decode(pending)
        if "\ufffd" not in text or len(pending) > 4:
            units.append((text, pending))
            pending = []
    if pending:
        units.append((tok.decode(pending), pending))
    if no_space(language):
        return units
    words: list[tuple[str, list[int]]] = []
    for text, ids in units:
        starts_word = text.startswith(" ") or not words
        is_punct = text.strip() != "" and all(unicodedata.category(c).startswith("P") for c in text.strip())
        if starts_word and not (is_punct and words and not text.startswith(" ")):
            words.append((text, list(ids)))
        else:
            prev_text, prev_ids = words[-1]
            words[-1] = (prev_text + text, prev_ids + list(ids))
    return words


def merge_punctuation(words: list[AlignedWord]) -> list[AlignedWord]:
    """Attach opening quotes/brackets to the next word and closing punctuation to the previous."""
    out: list[AlignedWord] = []
    carry: AlignedWord | None = None
    for w in words:
        stripped = w.word.strip()
        if carry is not None:
            w = AlignedWord(carry.word + w.word, carry.tokens + w.tokens, w.start, w.end, w.probability)
            carry = None
        if stripped and all(c in PREPEND_PUNCT for c in stripped) and w is not words[-1]:
            carry = w
            continue
        if out and stripped and all(c in APPEND_PUNCT for c in stripped):
            prev = out[-1]
            out[-1] = AlignedWord(prev.word + w.word, prev.tokens + w.tokens, prev.start, prev.end, prev.probability)
            continue
        out.append(w)
    if carry is not None:
        out.append(carry)
    return out


def align_words(
    tok: Tokenizer,
    text_tokens: list[int],
    token_probs: list[float],
    weights: np.ndarray,
    first_row: int,
    n_positions: int,
    language: str,
    skip: int = 0,
) -> list[AlignedWord]:
    """Words with window-relative times for one window's text tokens (no timestamp tokens).

    The first ``skip`` text tokens are context already placed (live: the confirmed words): the
    path runs through them, so the new words follow on, but only the words after them come out.
    """
    if len(text_tokens) <= skip:
        return []
    bounds = token_times(weights, first_row, len(text_tokens), n_positions)
    out = []
    pos = skip
    for text, ids in split_words(tok, text_tokens[skip:], language):
        start = float(bounds[min(pos, len(bounds) - 1)])
        end = float(bounds[min(pos + len(ids), len(bounds) - 1)])
        probs = token_probs[pos - skip : pos - skip + len(ids)]
        out.append(AlignedWord(text, ids, start, max(end, start), float(np.mean(probs)) if probs else 0.0))
        pos += len(ids)
    return merge_punctuation(out)


class WordAligner:
    """Word times for decoded text, for files, re-reads and live alike: one decoder pass over
    [SOT sequence, no-timestamps, text, EOT] rows gives the alignment heads' weights, then DTW."""

    def __init__(self, model: OnnxWhisper, tok: Tokenizer, task: str = "transcribe"):
        self.model = model
        self.tok = tok
        self.task = task

    def align(
        self,
        cross: list,
        texts: list[list[int]],
        probs: list[list[float]],
        n_samples: list[int],
        languages: list[str],
        skip: list[int] | None = None,
    ) -> list[list[AlignedWord]]:
        """Per window (row of ``cross``): its words, times relative to the window's start.

        ``texts[i]`` are text tokens only; ``probs[i]`` one probability per token after the
        first ``skip[i]`` (context tokens, see :func:`align_words`); ``n_samples[i]`` the
        window's audio length, so the path never runs into the padding.
        """
        tok = self.tok
        skip = skip or [0] * len(texts)
        prefix = [*tok.sot_sequence(languages[0], self.task), tok.no_timestamps]
        longest = max(len(t) for t in texts)
        rows = np.full((len(texts), len(prefix) + longest + 1), tok.eot, dtype=np.int64)
        for i, t in enumerate(texts):
            rows[i, : len(prefix) + len(t)] = prefix + t
        _, align, _ = self.model.step(rows, np.arange(len(texts)), self.model.empty_cache(len(texts)), cross)
        weights = to_numpy(align)
        out = []
        for i, text in enumerate(texts):
            n_pos = min(weights.shape[-1], math.ceil(n_samples[i] / SAMPLES_PER_POSITION))
            out.append(align_words(tok, text, probs[i], weights[i], len(prefix) - 1, n_pos, languages[i], skip[i]))
        return out
