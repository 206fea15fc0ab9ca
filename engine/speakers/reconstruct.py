"""Windows of local speaker activity, labelled with global speakers -> turns, overlap included.

Every 10 s window votes for who is active in each of its frames; a frame's votes are averaged
over the windows that cover it. How many people talk in a frame is the average of the windows'
local counts, rounded (pyannote 3.1's rule), and that many of the most active global speakers
are kept. The most active one is the frame's *primary* speaker: words and subtitles get that
one, one speaker per word. A second active speaker is an *overlap* turn: RTTM and the
transcript's turns carry it. Speech the voice detector found where the segmentation found no one
(quiet short words, pauses the annotators count as a turn) goes to the nearest speaker in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Region = tuple[float, float]


@dataclass(frozen=True)
class FrameGrid:
    """Frame ``i`` of a window starting at ``t`` is centred at ``t + offset + i * step`` seconds."""

    step: float
    offset: float

    def index(self, t: float) -> int:
        return int(round(t / self.step))

    def centre(self, g: np.ndarray | int) -> np.ndarray | float:
        return np.asarray(g) * self.step + self.offset


def aggregate(
    activity: np.ndarray, starts: np.ndarray, assignment: np.ndarray, num_speakers: int, grid: FrameGrid
) -> tuple[np.ndarray, np.ndarray]:
    """(mean activity per global frame and speaker [G, K], rounded speaker count per frame [G])."""
    W, F, L = activity.shape
    first = np.array([grid.index(float(s)) for s in starts], dtype=np.int64)
    G = int(first.max()) + F if W else 0
    score = np.zeros((G, max(num_speakers, 1)), dtype=np.float32)
    count = np.zeros(G, dtype=np.float32)
    cover = np.zeros(G, dtype=np.float32)
    for w in range(W):
        sl = slice(first[w], first[w] + F)
        cover[sl] += 1
        count[sl] += activity[w].sum(axis=1)
        local = np.zeros((F, score.shape[1]), dtype=np.float32)
        for j in range(L):
            k = assignment[w, j]
            if k >= 0:  # two local speakers of one window mapped to one voice count once
                local[:, k] = np.maximum(local[:, k], activity[w, :, j])
        score[sl] += local
    cover = np.maximum(cover, 1)
    score /= cover[:, None]
    return score[:, :num_speakers], np.rint(count / cover).astype(np.int64)


def frame_speakers(score: np.ndarray, count: np.ndarray, max_per_frame: int = 2) -> np.ndarray:
    """[G, max_per_frame] global speaker ids per frame, most active first, -1 where fewer talk."""
    G, K = score.shape
    out = np.full((G, max_per_frame), -1, dtype=np.int64)
    if K == 0:
        return out
    left = score.copy()  # the most active speaker, then the next (a full sort of [G, K] is 8x the memory)
    rows = np.arange(G)
    for j in range(min(max_per_frame, K)):
        pick = np.argmax(left, axis=1)
        keep = (count > j) & (left[rows, pick] > 0)
        out[keep, j] = pick[keep]
        left[rows, pick] = -np.inf
    return out


def fill_speech(primary: np.ndarray, speech_mask: np.ndarray) -> np.ndarray:
    """Primary speakers with unlabelled speech frames given to the nearest labelled frame's speaker
    and everything outside ``speech_mask`` cleared."""
    out = primary.copy()
    labelled = np.flatnonzero(out >= 0)
    if len(labelled):
        gaps = np.flatnonzero((out < 0) & speech_mask)
        if len(gaps):
            pos = np.searchsorted(labelled, gaps)
            left = labelled[np.clip(pos - 1, 0, len(labelled) - 1)]
            right = labelled[np.clip(pos, 0, len(labelled) - 1)]
            nearest = np.where(np.abs(gaps - left) <= np.abs(right - gaps), left, right)
            out[gaps] = out[nearest]
    out[~speech_mask] = -1
    return out


def bridge_gaps(labelled: np.ndarray, within: np.ndarray, max_frames: int) -> np.ndarray:
    """``labelled`` plus the unlabelled stretches of at most ``max_frames`` between two labelled
    frames that lie wholly ``within`` (the voice detector's speech): the pauses inside a turn."""
    out = labelled.copy()
    edges = np.flatnonzero(np.diff(labelled.astype(np.int8)))
    # gaps: a True->False edge at i (gap starts i+1) followed by a False->True edge at j (gap ends j)
    for a, b in zip(edges[:-1], edges[1:]):
        if labelled[a] and not labelled[a + 1] and b - a <= max_frames and within[a + 1 : b + 1].all():
            out[a + 1 : b + 1] = True
    return out


def join_pauses(labels: np.ndarray, max_frames: int) -> np.ndarray:
    """Unlabelled stretches of at most ``max_frames`` between two frames of the same speaker take
    that speaker: one person's pause inside a turn (annotators mark the turn whole)."""
    out = labels.copy()
    rs = runs(out)
    for (_, pb, pl), (na, _, nl) in zip(rs[:-1], rs[1:]):
        if pl == nl and 0 < na - pb <= max_frames:
            out[pb:na] = pl
    return out


def dilate(mask: np.ndarray, frames: int) -> np.ndarray:
    """``mask`` widened by ``frames`` on each side of every True run."""
    if frames <= 0 or not mask.any():
        return mask.copy()
    c = np.concatenate([[0], np.cumsum(mask)])
    idx = np.arange(len(mask))
    lo, hi = np.clip(idx - frames, 0, len(mask)), np.clip(idx + frames + 1, 0, len(mask))
    return (c[hi] - c[lo]) > 0


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(first frame, end frame exclusive, label) of each run of equal labels >= 0."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], change, [len(labels)]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(bounds[:-1], bounds[1:]) if labels[a] >= 0]


def absorb_short(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Runs shorter than ``min_frames`` between two labelled neighbours take the longer neighbour's
    label (a flicker of another voice inside one person's turn)."""
    out = labels.copy()
    if min_frames <= 1:
        return out
    rs = runs(out)
    for i, (a, b, _) in enumerate(rs):
        if b - a >= min_frames or i == 0 or i == len(rs) - 1:
            continue
        pa, pb, pl = rs[i - 1]
        na, nb, nl = rs[i + 1]
        if pb != a or na != b:
            continue  # touches silence: a real short turn
        out[a:b] = pl if pb - pa >= nb - na else nl
    return out


def speech_mask(regions: Sequence[Region], n_frames: int, grid: FrameGrid) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    centres = grid.centre(np.arange(n_frames))
    for a, b in regions:
        lo, hi = np.searchsorted(centres, [a, b])
        mask[lo:hi] = True
    return mask


def to_turns(labels: np.ndarray, grid: FrameGrid, end_time: float | None = None) -> list[tuple[float, float, int]]:
    """Runs of frames as (start, end, speaker) in seconds; a frame spans its centre +- step/2."""
    half = grid.step / 2
    out = []
    for a, b, k in runs(labels):
        start = max(0.0, float(grid.centre(a)) - half)
        end = float(grid.centre(b - 1)) + half
        if end_time is not None:
            end = min(end, end_time)
        if end > start:
            out.append((start, end, k))
    return out
