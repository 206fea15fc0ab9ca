"""Live speakers on the overlap-aware pipeline: the file job's windows, made while the meeting runs.

Why not embed each utterance on its own (engine/speakers/live.py, GE2E): CAM++ on a few seconds
of one utterance separates telephone voices far worse than on segmentation-3.0's local speakers,
and the final labels would then differ from what the same recording gets as a file. Here the
meeting's audio goes through the very window pass of ``OverlapDiarizer`` (10 s windows every
2.5 s: segmentation, CAM++ per local speaker, the lenient voice detector) as it arrives, one
window at a time, and ``relabel`` runs the file job's clustering and turn building on the windows
so far. The last relabel is therefore the offline diarization of the recording.

``add`` labels a finished utterance at once from the latest windows: the local speaker who talks
most in it, compared with the speakers met so far. ``relabel`` maps the new clusters onto the
labels already shown (the mapping that keeps the most speech under its old label,
engine/speakers/live.py ``keep_labels``), so two people never trade labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.speakers.diarize import DiarizationOptions
from engine.speakers.live import free_label, keep_labels
from engine.speakers.overlap_diarize import GRID, OverlapDiarizer, OverlapOptions, _Windows
from engine.speakers.segmentation import FRAME_HOP, SAMPLE_RATE, WINDOW_SAMPLES, _padded, step_samples, window_starts

MIN_UTTERANCE = 0.3  # seconds of the utterance a local speaker must cover to name it at once


@dataclass
class _Utterance:
    start: float
    end: float
    label: str | None = None


@dataclass
class OverlapSpeakerTracker:
    """Online speaker labels ("S1", "S2", ...) for one live session, on the overlap pipeline.

    ``read(start, end)`` gives the recording's 16 kHz samples between two times (the recorder's
    ``read``): the window pass needs the audio between utterances too."""

    diarizer: OverlapDiarizer
    read: Callable[[float, float], np.ndarray]
    max_speakers: int = 8
    num_speakers: int | None = None
    new_speaker_threshold: float = 0.45  # cosine to the nearest speaker below this opens a new one
    utterances: list[_Utterance] = field(default_factory=list)
    centroids: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.options: OverlapOptions = replace(self.diarizer.options, batch=1)  # each window as it completes
        self._step = step_samples(self.options.step)
        self._vad = self.diarizer.speech_vad.stream()
        self._speech: list[tuple[float, float]] = []
        self._win = _Windows()
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # sample index of _buf[0]
        self._seen = 0  # samples fed
        self._next = 0  # start of the next window
        self._emitted = 0
        self._finished = False
        self._counts: dict[str, int] = {}
        self.overlaps: list[tuple[float, float, str]] = []  # the last relabel's second voices

    @property
    def labels(self) -> list[str]:
        return list(self.centroids)

    # -- the window pass, fed as the recording grows -----------------------------------------------
    def _feed(self, until: float, final: bool = False) -> None:
        if self._finished:
            return
        samples = self.read(self._seen / SAMPLE_RATE, until)
        if len(samples):
            samples = np.asarray(samples, dtype=np.float32).reshape(-1)
            self._speech.extend(self._vad.push(samples))
            self._buf = np.concatenate([self._buf, samples])
            self._seen += len(samples)
        ready = []
        while self._next + WINDOW_SAMPLES <= self._seen:
            a = self._next - self._buf_start
            ready.append((self._next, self._buf[a : a + WINDOW_SAMPLES].copy()))
            self._emitted += 1
            self._next += self._step
        if final:  # the tail, padded, as the file job's pass ends
            for s in window_starts(self._seen, self._step)[self._emitted :]:
                a = s - self._buf_start
                ready.append((s, _padded(self._buf[a : a + WINDOW_SAMPLES])))
            self._speech.extend(self._vad.finish())
            self._finished = True
        for window in ready:
            self.diarizer._process([window], self.options, self._win)
        keep_from = max(self._buf_start, min(self._next, self._seen - WINDOW_SAMPLES - FRAME_HOP))
        self._buf = self._buf[keep_from - self._buf_start :]
        self._buf_start = keep_from

    def advance(self, until: float) -> None:
        """Make the windows of the recording up to ``until`` seconds (called between lines)."""
        self._feed(until)

    def _voice(self, start: float, end: float) -> np.ndarray | None:
        """The embedding of the local speaker who talks most in [start, end] in the latest windows."""
        best, best_frames = None, 0
        for w in range(len(self._win.starts) - 1, max(-1, len(self._win.starts) - 4), -1):
            t0 = self._win.starts[w]
            centres = t0 + GRID.centre(np.arange(len(self._win.activity[w])))
            inside = (centres >= start) & (centres < end)
            frames = self._win.activity[w][inside].sum(axis=0)
            usable = self._win.clean[w] | self._win.weak[w]
            for j in np.flatnonzero(usable):
                if frames[j] > best_frames:
                    best, best_frames = self._win.emb[w][j], int(frames[j])
        if best is None or best_frames * GRID.step < MIN_UTTERANCE:
            return None
        return best / max(float(np.linalg.norm(best)), 1e-12)

    # -- the tracker's interface (as engine/speakers/live.py) ---------------------------------------
    def add(self, samples: np.ndarray, start: float, end: float) -> str | None:
        """The speaker of one finished utterance; ``samples`` are not needed (``read`` gives them)."""
        self._feed(end)
        utt = _Utterance(start, end)
        self.utterances.append(utt)
        vector = self._voice(start, end)
        if vector is None:
            utt.label = next((u.label for u in reversed(self.utterances[:-1]) if u.label), None)
            if utt.label is None and not self.centroids:
                utt.label = "S1"
            return utt.label
        limit = self.num_speakers or self.max_speakers
        if self.centroids:
            names = list(self.centroids)
            sims = np.array([float(vector @ self.centroids[n]) for n in names])
            best = int(np.argmax(sims))
            if sims[best] >= self.new_speaker_threshold or len(names) >= limit:
                utt.label = names[best]
        if utt.label is None:
            utt.label = free_label(list(self.centroids))
        n = self._counts.get(utt.label, 0)
        c = self.centroids.get(utt.label)
        c = vector if c is None else c * n + vector
        self.centroids[utt.label] = c / max(float(np.linalg.norm(c)), 1e-12)
        self._counts[utt.label] = n + 1
        return utt.label

    def relabel(self, final: bool = False) -> list[tuple[float, float, str]]:
        """The file job's diarization of the windows so far: (start, end, label) turns, labels kept.

        ``final``: the recording has ended; its last windows are made first."""
        if final:
            self._feed(float("inf"), final=True)
        shown = [u for u in self.utterances if u.label is not None]
        if not self._win.starts:
            return [(u.start, u.end, u.label) for u in shown]
        d_opts = DiarizationOptions(max_speakers=self.max_speakers, num_speakers=self.num_speakers)
        result = self.diarizer.diarize_windows(
            self._win, list(self._speech), self._seen / SAMPLE_RATE, d_opts, self.options
        )
        if not result.turns:
            return [(u.start, u.end, u.label) for u in shown]
        old = sorted({u.label for u in shown}, key=lambda s: (len(s), s))
        talk = np.zeros((len(old), result.num_speakers))
        per_utt = np.zeros((len(self.utterances), result.num_speakers))
        for i, u in enumerate(self.utterances):
            for t in result.turns:
                covered = min(u.end, t.end) - max(u.start, t.start)
                if covered > 0:
                    per_utt[i, t.speaker] += covered
            if u.label is not None:
                talk[old.index(u.label)] += per_utt[i]
        mapping = keep_labels(old, talk, result.num_speakers)
        for i, u in enumerate(self.utterances):
            if per_utt[i].sum() > 0:
                u.label = mapping[int(np.argmax(per_utt[i]))]
        self.centroids = {mapping[k]: result.centroids[k] for k in range(result.num_speakers)}
        self._counts = {lab: 1 for lab in self.centroids}
        turns = [(t.start, t.end, mapping[t.speaker]) for t in result.turns]
        self.overlaps = [(t.start, t.end, mapping[t.speaker]) for t in result.overlaps]
        # utterances no turn reaches keep their label (the speech extent may differ at the edges)
        alone = [(u.start, u.end, u.label) for i, u in enumerate(self.utterances) if u.label and per_utt[i].sum() == 0]
        return sorted(turns + alone)
