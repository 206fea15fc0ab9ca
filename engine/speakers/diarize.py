"""Who spoke when: speech regions -> sliding-window embeddings -> clusters -> smoothed turns.

Two jobs, two kinds of window. Counting and grouping the voices uses windows of a fixed
``cluster_window`` (1.5 s, about the 1.6 s the encoder was trained on), so the speaker count
does not move when the labelling window is changed. Labelling uses windows of ``window``
seconds every ``hop`` seconds plus shorter ones (``scales``): each 10 ms frame takes the
speaker whose centroid the windows over it resemble most, averaged over the window lengths;
long windows are reliable, short ones place a change of speaker more precisely. Runs
shorter than ``min_turn`` are absorbed by their neighbours so labels do not flicker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import Cancelled
from engine.speakers.clustering import METHODS, centroids
from engine.speakers.embedding import FRAMES_PER_SECOND, MelStream, SpeakerEncoder
from engine.speakers.turns import Turns

Region = tuple[float, float]
_SLACK = 1e-6  # seconds: widens index lookups past any rounding in their bounds (extra turns score nothing)


@dataclass
class DiarizationOptions:
    num_speakers: int | None = None  # fixed count; None: found automatically within [min, max]
    min_speakers: int = 1
    max_speakers: int = 8
    window: float = 1.5  # seconds of audio per embedding that labels frames
    hop: float = 0.75
    cluster_window: float | None = 1.5  # fixed window (hop half) that is clustered; None: ``window``/``hop``
    scales: tuple[float, ...] = (1.0, 2 / 3)  # labelling window lengths, as fractions of ``window``/``hop``
    method: str = "capped"  # or "hybrid", "spectral", "agglomerative" (bench/diarization.py compares them)
    min_turn: float = 0.5  # shorter runs inside a region join a neighbour
    min_window: float = 0.4  # regions shorter than this get no embedding of their own
    short_window: float = 0.0  # windows shorter than this fraction of ``window`` join clusters afterwards
    threshold: float | None = None  # clustering threshold override (benchmarks)

    def check(self) -> None:
        from engine.errors import MinutesError

        if self.num_speakers is not None and not 1 <= self.num_speakers <= 20:
            raise MinutesError("The number of speakers must be between 1 and 20.")
        if not 1 <= self.min_speakers <= self.max_speakers:
            raise MinutesError("Minimum speakers must be at least 1 and at most the maximum.")
        if self.method not in METHODS:
            raise MinutesError(f"Unknown clustering method '{self.method}': choose {', '.join(METHODS)}.")


@dataclass
class Turn:
    start: float
    end: float
    speaker: int  # 0-based, in order of first appearance


@dataclass
class Diarization:
    turns: list[Turn]
    num_speakers: int
    centroids: np.ndarray = field(repr=False)  # [num_speakers, 256] unit vectors
    spans: list[Region] = field(default_factory=list, repr=False)
    embeddings: np.ndarray | None = field(default=None, repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    overlaps: list[Turn] = field(default_factory=list)  # a second voice where two talk (not for words)

    _index: tuple[tuple[int, int], Turns[int]] | None = field(default=None, init=False, repr=False, compare=False)

    def speaker_at(self, start: float, end: float) -> int | None:
        """The speaker of the turn that overlaps [start, end] most; else the nearest turn's within 1 s.

        Equal candidates go to the earlier turn in ``turns``. Every word of a transcript asks,
        so the turns are indexed once (bisect, engine.speakers.turns) rather than scanned per word;
        the lookup reads a superset of the turns that can qualify (``_SLACK`` wider, so rounding
        cannot leave one out) and scores them exactly as a scan over all of them would.
        """
        index = self._turn_index()
        best, best_overlap = None, 0.0
        for a, b, i in index.near(start - _SLACK, end + _SLACK):
            ov = min(end, b) - max(start, a)
            if ov > best_overlap or (ov == best_overlap and best is not None and i < best):
                best, best_overlap = i, ov
        if best is not None:
            return self.turns[best].speaker
        mid = (start + end) / 2
        near = min(
            index.near(mid - 1.0 - _SLACK, mid + 1.0 + _SLACK),
            key=lambda t: (max(t[0] - mid, mid - t[1], 0.0), t[2]),
            default=None,
        )
        if near is not None and max(near[0] - mid, mid - near[1], 0.0) <= 1.0:
            return self.turns[near[2]].speaker
        return None

    def _turn_index(self) -> Turns[int]:
        """(start, end, position in ``turns``), rebuilt if ``turns`` is replaced or grows."""
        key = (id(self.turns), len(self.turns))
        if self._index is None or self._index[0] != key:
            self._index = (key, Turns([(t.start, t.end, i) for i, t in enumerate(self.turns)]))
        return self._index[1]


def plan_spans(regions: Sequence[Region], window: float, hop: float, min_window: float) -> list[Region]:
    """Windows over each speech region: a region shorter than ``window`` is one window."""
    spans: list[Region] = []
    for a, b in regions:
        dur = b - a
        if dur < min_window:
            continue
        if dur <= window:
            spans.append((a, b))
            continue
        n = int(np.ceil((dur - window) / hop)) + 1
        starts = np.linspace(a, b - window, n) if n > 1 else np.array([a])
        spans.extend((float(s), float(s) + window) for s in starts)
    return spans


def _smooth(labels: np.ndarray, scores: np.ndarray, min_frames: int) -> np.ndarray:
    """Runs shorter than ``min_frames`` take the label of the neighbour they resemble more."""
    labels = labels.copy()
    while True:
        edges = np.flatnonzero(np.diff(labels)) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [len(labels)]])
        if len(starts) <= 1:
            return labels
        lengths = ends - starts
        i = int(np.argmin(lengths))
        if lengths[i] >= min_frames:
            return labels
        a, b = starts[i], ends[i]
        options = []
        if i > 0:
            options.append(labels[a - 1])
        if i < len(starts) - 1:
            options.append(labels[b])
        labels[a:b] = max(options, key=lambda c: scores[a:b, c].sum())


def assign_frames(
    duration: float, regions: Sequence[Region], spans: Sequence[Region], sims: np.ndarray, min_turn: float
) -> list[Turn]:
    """Turns from per-window similarities to each speaker ([n_spans, k])."""
    return assign_layers(duration, regions, [(spans, sims)], min_turn)


def assign_layers(
    duration: float,
    regions: Sequence[Region],
    layers: Sequence[tuple[Sequence[Region], np.ndarray]],
    min_turn: float,
) -> list[Turn]:
    """Turns from per-window similarities of one or more window lengths (``layers``: spans, [n, k] sims).

    A frame's score for a speaker is the mean over the windows of each length that cover it,
    then the mean over the lengths that cover it at all.
    """
    n_frames = int(np.ceil(duration * FRAMES_PER_SECOND)) + 1
    k = layers[0][1].shape[1] if layers else 0
    total = np.zeros((n_frames, k), dtype=np.float64)
    weight = np.zeros(n_frames, dtype=np.float64)
    for spans, sims in layers:
        acc = np.zeros((n_frames, k), dtype=np.float64)
        cnt = np.zeros(n_frames, dtype=np.float64)
        for (a, b), s in zip(spans, sims):
            f0, f1 = int(a * FRAMES_PER_SECOND), int(np.ceil(b * FRAMES_PER_SECOND))
            acc[f0:f1] += s
            cnt[f0:f1] += 1
        hit = cnt > 0
        total[hit] += acc[hit] / cnt[hit, None]
        weight[hit] += 1
    turns: list[Turn] = []
    covered = np.flatnonzero(weight > 0)
    for a, b in regions:
        f0, f1 = int(round(a * FRAMES_PER_SECOND)), min(int(round(b * FRAMES_PER_SECOND)), n_frames)
        if f1 <= f0 or not len(covered):
            continue
        frames = np.arange(f0, f1)
        # frames no window covers (a short region) borrow the nearest covered frame's scores
        src = frames.copy()
        missing = weight[frames] == 0
        if missing.any():
            pos = np.clip(np.searchsorted(covered, frames[missing]), 0, len(covered) - 1)
            left = covered[np.maximum(pos - 1, 0)]
            right = covered[pos]
            src[missing] = np.where(np.abs(left - frames[missing]) <= np.abs(right - frames[missing]), left, right)
        scores = total[src] / np.maximum(weight[src], 1)[:, None]
        labels = _smooth(np.argmax(scores, axis=1), scores, int(min_turn * FRAMES_PER_SECOND))
        edges = np.flatnonzero(np.diff(labels)) + 1
        for s, e in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(labels)]])):
            turns.append(Turn(float(f0 + s) / FRAMES_PER_SECOND, float(f0 + e) / FRAMES_PER_SECOND, int(labels[s])))
    return turns


def layer_centroids(emb: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Each speaker's centroid among windows of one length: the mean of those nearest its clustered centroid.

    Shorter windows give vectors that sit a little apart from long-window ones (lower
    similarity all round); comparing each length with its own means compares like with like.
    A speaker no window of this length is nearest to keeps the clustered centroid.
    """
    if not len(emb) or not len(cents):
        return cents
    nearest = np.argmax(emb @ cents.T, axis=1)
    out = np.stack([emb[nearest == j].mean(axis=0) if (nearest == j).any() else cents[j] for j in range(len(cents))])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _order_by_appearance(turns: list[Turn], cents: np.ndarray) -> tuple[list[Turn], np.ndarray]:
    order: list[int] = []
    for t in sorted(turns, key=lambda t: t.start):
        if t.speaker not in order:
            order.append(t.speaker)
    remap = {old: new for new, old in enumerate(order)}
    out = [Turn(t.start, t.end, remap[t.speaker]) for t in turns]
    return out, cents[order] if len(order) else cents[:0]


def cluster_windows(
    emb: np.ndarray, spans: Sequence[Region], opts: DiarizationOptions, window: float | None = None
) -> np.ndarray:
    """Cluster the full-length windows; shorter ones (a region shorter than a window) join the nearest.

    A one-second "Americans," has a less reliable voice vector than a full window; counted
    alongside the rest it split a single speaker in two.
    """
    lengths = np.array([b - a for a, b in spans])
    full = lengths >= opts.short_window * (window or opts.window)
    if full.sum() < 2:
        full[:] = True
    labels = np.zeros(len(emb), dtype=np.int64)
    method = METHODS[opts.method]() if opts.threshold is None else METHODS[opts.method](threshold=opts.threshold)
    labels[full] = method(emb[full], opts.min_speakers, opts.max_speakers, opts.num_speakers)
    if (~full).any():
        cents = centroids(emb[full], labels[full])
        labels[~full] = np.argmax(emb[~full] @ cents.T, axis=1)
    return labels


def diarize_features(
    mel: np.ndarray,
    speech: Sequence[Region],
    segments: Sequence[Region],
    encoder: SpeakerEncoder,
    options: DiarizationOptions | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Diarization:
    """Speaker turns from a recording's mel frames.

    ``speech``: where anyone talks (generous, padded: what the output covers);
    ``segments``: pause-delimited stretches of speech the windows are placed in, so that a
    window rarely straddles a change of speaker (people mostly take turns at pauses).
    """
    opts = options or DiarizationOptions()
    opts.check()
    duration = max(0, len(mel) - 1) / FRAMES_PER_SECOND
    if opts.cluster_window:
        cw, ch = opts.cluster_window, opts.cluster_window / 2
    else:
        cw, ch = opts.window, opts.hop
    grids = [(cw, ch)]
    for f in opts.scales:
        w, h = opts.window * f, opts.hop * f
        if all(abs(w - w0) > 1e-3 or abs(h - h0) > 1e-3 for w0, h0 in grids):
            grids.append((w, h))
    span_sets = [_windows(speech, segments, w, h, min(opts.min_window, w)) for w, h in grids]
    if not span_sets[0]:
        return Diarization([], 0, np.zeros((0, 256), dtype=np.float32))
    every = [sp for spans in span_sets for sp in spans]
    emb_all = np.zeros((len(every), 256), dtype=np.float32)
    chunk = 256
    for i in range(0, len(every), chunk):  # in chunks, so cancel and progress react within a second
        if cancel is not None and cancel.is_set():
            raise Cancelled("Diarization cancelled.")
        emb_all[i : i + chunk] = encoder.embed_spans(None, every[i : i + chunk], mel=mel)
        if progress:
            progress(min(1.0, (i + chunk) / len(every)))
    bounds = np.cumsum([0] + [len(spans) for spans in span_sets])
    embs = [emb_all[bounds[i] : bounds[i + 1]] for i in range(len(span_sets))]
    spans, emb = span_sets[0], embs[0]
    labels = cluster_windows(emb, spans, opts, cw)
    cents = centroids(emb, labels)
    layers = [(sp, e @ layer_centroids(e, cents).T) for sp, e in zip(span_sets, embs) if len(sp)]
    turns = assign_layers(duration, speech, layers, opts.min_turn)
    turns, cents = _order_by_appearance(turns, cents)
    return Diarization(turns, len(cents), cents, spans, emb, labels)


def _windows(
    speech: Sequence[Region], segments: Sequence[Region], window: float, hop: float, min_window: float
) -> list[Region]:
    """Windows within pause-delimited segments, plus windows over speech the strict detector left out
    entirely (quiet, far from the microphone)."""
    spans = plan_spans(segments, window, hop, min_window)
    bare = [r for r in speech if not any(a < r[1] and b > r[0] for a, b in spans)]
    return sorted(spans + plan_spans(bare, window, hop, min_window))


class Diarizer:
    """Loaded speaker encoder and voice detectors; diarize many recordings with one instance."""

    def __init__(self, threads: int | None = None, encoder: SpeakerEncoder | None = None, vad=None) -> None:
        """``encoder``, ``vad`` (a SileroVAD): loaded models to share (engine.recognizer.Recognizer)."""
        from engine.audio.vad import SileroVAD

        self.encoder = encoder or SpeakerEncoder(threads=threads)
        # Lenient detector for what counts as speech (a missed word is an error in every metric);
        # strict one for where windows go. Same model, different hysteresis. The lenient one bridges
        # pauses under 0.8 s, as annotators mark a turn (600 ms: AMI 36.0% -> 34.8% at 800 ms).
        self.speech_vad = SileroVAD(threshold=0.3, speech_pad_ms=300, min_silence_ms=800, max_speech_s=None, share=vad)
        self.segment_vad = SileroVAD(
            threshold=0.5, speech_pad_ms=100, min_silence_ms=200, max_speech_s=None, share=self.speech_vad
        )

    def features(self, blocks: Iterable[np.ndarray], cancel: threading.Event | None = None):
        """One pass over 16 kHz blocks: mel frames, speech regions and pause-delimited segments."""
        mel = MelStream()
        speech, segments = self.speech_vad.stream(), self.segment_vad.stream()
        sp: list[Region] = []
        sg: list[Region] = []
        for block in blocks:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Diarization cancelled.")
            mel.push(block)
            sp += speech.push(block)
            sg += segments.push(block)
        sp += speech.finish()
        sg += segments.finish()
        return mel.finish(), sp, sg

    def __call__(
        self,
        audio: np.ndarray | Iterable[np.ndarray],
        options: DiarizationOptions | None = None,
        cancel: threading.Event | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Diarization:
        """Diarize a 16 kHz array or a stream of blocks (e.g. ``engine.audio.decode.stream_audio``)."""
        blocks = [audio] if isinstance(audio, np.ndarray) else audio
        mel, speech, segments = self.features(blocks, cancel)
        return diarize_features(mel, speech, segments, self.encoder, options, cancel, progress)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One voice vector for a clip (enrolment, live utterances)."""
        return self.encoder.embed(audio)
