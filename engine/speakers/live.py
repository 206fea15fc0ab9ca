"""Speakers in a live meeting: a label for each finished utterance at once, better labels later.

``add`` labels an utterance in a few milliseconds by comparing its voice with the speakers
met so far (or opens a new speaker). Every so often, and at stop, ``relabel`` clusters all the
meeting's speech again with the offline method, which is more accurate, and maps the new
clusters onto the labels already shown (the mapping that keeps the most speech under its old
label), so a person keeps their label: two people's names are never swapped mid-meeting,
only individual utterances may move to the right person.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from engine.speakers.clustering import METHODS
from engine.speakers.diarize import plan_spans
from engine.speakers.embedding import SAMPLE_RATE, SpeakerEncoder

WINDOW = 1.5
HOP = 0.75
MIN_UTTERANCE = 0.4  # seconds; shorter ones take the previous speaker
MAX_WINDOWS = 1200  # re-clustering fits on at most this many windows (bounded time and memory)


@dataclass
class _Utterance:
    start: float
    end: float
    vector: np.ndarray | None  # mean voice (unit), None if too short
    windows: np.ndarray  # [n, 256] window embeddings
    spans: list[tuple[float, float]]  # the windows, in seconds from the utterance start
    label: str | None = None


def keep_labels(old: list[str], talk: np.ndarray, n_new: int) -> dict[int, str]:
    """New cluster -> label, keeping the most speech under its old label.

    ``talk[i, k]``: seconds of speech shown as ``old[i]`` that cluster ``k`` now holds. Clusters
    with no old label to inherit get the first free "S<n>"."""
    from scipy.optimize import linear_sum_assignment

    mapping: dict[int, str] = {}
    if len(old) and n_new:
        rows, cols = linear_sum_assignment(-talk)
        mapping = {int(c): old[r] for r, c in zip(rows, cols) if talk[r, c] > 0}
    used = set(mapping.values()) | set(old)
    for k in range(n_new):
        if k not in mapping:
            mapping[k] = free_label(used)
            used.add(mapping[k])
    return mapping


def free_label(used: Collection[str]) -> str:
    """The first "S<n>" not in ``used`` (no SciPy: a new voice is labelled without importing it,
    which took 0.8 s on the first new speaker of a live session)."""
    n = 1
    while f"S{n}" in used:
        n += 1
    return f"S{n}"


@dataclass
class LiveSpeakerTracker:
    """Online speaker labels ("S1", "S2", ...) for the utterances of one live session."""

    encoder: SpeakerEncoder | None = None
    max_speakers: int = 8
    num_speakers: int | None = None
    new_speaker_threshold: float = 0.70  # utterance-to-speaker cosine below this opens a new speaker
    method: str = "capped"
    utterances: list[_Utterance] = field(default_factory=list)
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.encoder is None:
            self.encoder = SpeakerEncoder(threads=1)

    @property
    def labels(self) -> list[str]:
        return list(self.centroids)

    def _embed(self, samples: np.ndarray):
        dur = len(samples) / SAMPLE_RATE
        if dur < MIN_UTTERANCE:
            return None, np.zeros((0, getattr(self.encoder, "dim", 256)), dtype=np.float32), []
        spans = plan_spans([(0.0, dur)], WINDOW, HOP, MIN_UTTERANCE)
        windows = self.encoder.embed_spans(samples, spans)
        v = windows.mean(axis=0)
        return v / max(float(np.linalg.norm(v)), 1e-12), windows, spans

    def _new_label(self) -> str:
        return free_label(self.centroids)

    def _update(self, label: str, vector: np.ndarray) -> None:
        n = self._counts.get(label, 0)
        c = self.centroids.get(label)
        c = vector if c is None else (c * n + vector) / (n + 1)
        self.centroids[label] = c / max(float(np.linalg.norm(c)), 1e-12)
        self._counts[label] = n + 1

    def add(self, samples: np.ndarray, start: float, end: float) -> str | None:
        """The speaker of one finished utterance (16 kHz samples of [start, end])."""
        vector, windows, spans = self._embed(np.asarray(samples, dtype=np.float32))
        utt = _Utterance(start, end, vector, windows, spans)
        self.utterances.append(utt)
        if vector is None:
            prev = next((u.label for u in reversed(self.utterances[:-1]) if u.label), None)
            utt.label = prev
            return prev
        limit = self.num_speakers or self.max_speakers
        if self.centroids:
            names = list(self.centroids)
            sims = np.array([float(vector @ self.centroids[n]) for n in names])
            best = int(np.argmax(sims))
            if sims[best] >= self.new_speaker_threshold or len(names) >= limit:
                utt.label = names[best]
        if utt.label is None:
            utt.label = self._new_label()
        self._update(utt.label, vector)
        return utt.label

    def relabel(self, final: bool = False) -> list[tuple[float, float, str]]:
        """Cluster all speech so far again: (start, end, label) pieces covering every utterance.

        ``final`` (the recording has ended) changes nothing here: each utterance is already in.

        An utterance in which the speaker changes (no pause between two people) comes back
        as several pieces. Labels already shown keep standing for the same person.
        """
        voiced = [u for u in self.utterances if u.vector is not None]
        if len(voiced) < 2 or sum(len(u.windows) for u in voiced) < 3:
            return [(u.start, u.end, u.label) for u in self.utterances if u.label is not None]
        return self._recluster(voiced)

    def _recluster(self, voiced: list[_Utterance]) -> list[tuple[float, float, str]]:
        from engine.speakers.clustering import centroids
        from engine.speakers.diarize import assign_frames

        X = np.concatenate([u.windows for u in voiced])
        cluster = METHODS[self.method]()
        # Hours in, cluster an even sample of the meeting and score every window against its
        # centroids: the affinity matrix, and so time and memory, stop growing with the meeting.
        fit = X if len(X) <= MAX_WINDOWS else X[np.linspace(0, len(X) - 1, MAX_WINDOWS).round().astype(int)]
        cents = centroids(fit, cluster(fit, 1, self.max_speakers, self.num_speakers))
        sims = X @ cents.T
        pieces: list[tuple[float, float, int]] = []
        talk = np.zeros((len(voiced), len(cents)))  # seconds of each utterance under each new cluster
        row = 0
        for i, u in enumerate(voiced):  # one utterance at a time: frame arrays stay utterance-sized
            n = len(u.windows)
            for t in assign_frames(u.end - u.start, [(0.0, u.end - u.start)], u.spans, sims[row : row + n], 0.5):
                pieces.append((u.start + t.start, u.start + t.end, t.speaker))
                talk[i, t.speaker] += t.end - t.start
            row += n
        # map clusters onto the labels shown so far, keeping the most speech under its old label
        old = sorted({u.label for u in voiced}, key=lambda s: int(s[1:]))
        overlap = np.zeros((len(old), len(cents)))
        for i, u in enumerate(voiced):
            overlap[old.index(u.label)] += talk[i]
        mapping = keep_labels(old, overlap, len(cents))
        out = [(a, b, mapping[c]) for a, b, c in pieces]
        for i, u in enumerate(voiced):  # each utterance's own label: who speaks most of it
            if talk[i].sum() > 0:
                u.label = mapping[int(np.argmax(talk[i]))]
        self.centroids = {mapping[c]: cents[c] for c in range(len(cents))}
        self._counts = {lab: 1 for lab in self.centroids}
        short = [(u.start, u.end, u.label) for u in self.utterances if u.vector is None and u.label is not None]
        return sorted(out + short)
