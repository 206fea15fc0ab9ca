"""Who spoke when, overlap included: segmentation-3.0 windows -> CAM++ per local speaker -> clusters.

The pyannote 3.x recipe, written here: one pass over the recording's blocks slides a 10 s window
(``step`` apart) through a ring buffer; per window the segmentation model says which of up to
three local speakers talk in each 17 ms frame, and CAM++ embeds each local speaker from the
frames where it talks alone (overlapped frames would blend two voices). Only those small
results are kept (a few kB a window), so memory stays flat on a two-hour meeting. The local
speakers are then clustered into people (engine.speakers.local_clustering), and the windows'
votes turned into turns (engine.speakers.reconstruct). The lenient voice detector of the GE2E
pipeline gives the speech extent: segmentation-3.0 draws tight boundaries that miss the short
pauses annotators count inside a turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import Cancelled
from engine.speakers.diarize import Diarization, DiarizationOptions, Turn, _order_by_appearance
from engine.speakers.local_clustering import LocalClusteringOptions, assign_windows, cluster_embeddings
from engine.speakers.reconstruct import (
    FrameGrid,
    absorb_short,
    aggregate,
    bridge_gaps,
    dilate,
    fill_speech,
    frame_speakers,
    join_pauses,
    speech_mask,
    to_turns,
)
from engine.speakers.segmentation import FRAME_DURATION, FRAME_STEP

FBANK_STEP = 0.01  # CAM++ features: 10 ms hop, 25 ms frames
FBANK_OFFSET = 0.0125
GRID = FrameGrid(FRAME_STEP, FRAME_DURATION / 2)  # segmentation frame i of a window: its centre


@dataclass(frozen=True)
class OverlapOptions:
    step: float = 2.5  # seconds between window starts
    min_clean: float = 0.5  # seconds of solo speech a local speaker needs for a clustered embedding
    min_weak: float = 0.2  # with less solo speech, its overlapped frames give an assign-only embedding
    min_turn: float = 0.3  # shorter flickers of another voice inside a turn are absorbed
    clustering: LocalClusteringOptions = field(default_factory=LocalClusteringOptions)
    extent: str = "bridge"  # speech: "vad" (lenient Silero), "segmentation", "union", or "bridge"
    max_gap: float = 1.0  # "bridge": pauses up to this long inside the voice detector's speech are speech
    widen: float = 0.2  # "bridge": and so is its speech this close to a segmented speaker
    join_pause: float = 0.8  # one speaker's pauses up to this long are part of the turn (as GE2E's detector)
    batch: int = 8  # windows per segmentation call
    # segmentation-3.0 sometimes keeps one local speaker across a pause in which the voice changes:
    # such a local speaker's stretches (split at pauses of split_gap) with min_piece of solo speech
    # get their own embedding, and a stretch clearly nearer another person (by piece_margin) goes to
    # them. Short pieces matter: the first 0.2-0.7 s of a turn carried with the last speaker's local
    # one was most of what six voices still misattributed (0.3 s / 1.0 s / 0.1 before: first 10
    # minutes 2.10% -> 0.96% of frames; bench/diarization.py sets equal or better)
    split_gap: float = 0.15
    min_piece: float = 0.3
    piece_margin: float = 0.2
    # two close voices (centroids at cosine 0.9) never differ by 0.2: the margin is at most this
    # share of the distance between the two people's centroids (close espeak voices: first 1-2.5 s
    # of a turn carried with the last speaker, 5% of the speech -> under 1%; shared sets unchanged)
    piece_relative: float = 0.3
    # segmentation-3.0 also carries one local speaker through a short pause between two similar
    # voices; frames this far below the window's loud speech count as pause for that split too
    # (0 = only the model's own gaps)
    pause_db: float = 30.0


@dataclass
class _Windows:
    """What is kept of each window: local activity and one embedding per local speaker."""

    starts: list[float] = field(default_factory=list)
    activity: list[np.ndarray] = field(default_factory=list)  # [F, L] uint8
    emb: list[np.ndarray] = field(default_factory=list)  # [L, d]
    clean: list[np.ndarray] = field(default_factory=list)  # [L] bool: embedding from solo frames
    weak: list[np.ndarray] = field(default_factory=list)  # [L] bool: from overlapped frames only
    pieces: list[list[tuple[int, int, int, np.ndarray]]] = field(default_factory=list)  # (local, f0, f1, emb)


def _quiet_frames(audio: np.ndarray, n_frames: int, pause_db: float) -> np.ndarray:
    """[F] bool: segmentation frames whose energy is ``pause_db`` below the window's loud speech."""
    if pause_db <= 0:
        return np.zeros(n_frames, bool)
    hop = int(round(FRAME_STEP * SAMPLE_RATE))
    centre = np.arange(n_frames) * hop + int(round(FRAME_DURATION * SAMPLE_RATE)) // 2
    lo, hi = (centre - hop // 2).clip(0, len(audio)), (centre + hop // 2).clip(0, len(audio))
    cum = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    power = cum[hi] - cum[lo]
    level = 10 * np.log10(power / np.maximum(hi - lo, 1) + 1e-12)
    return level < np.percentile(level, 90) - pause_db


def _stretches(
    act: np.ndarray, clean: np.ndarray, solo: np.ndarray, seg_idx: np.ndarray, opts: OverlapOptions, quiet=None
):
    """(local speaker, first frame, end frame) of the stretches of a clean local speaker that
    has two or more separated by a pause (the model's own, or ``quiet`` frames), each with
    ``min_piece`` of solo speech."""
    gap = max(1, int(round(opts.split_gap / GRID.step)))
    out = []
    for j in np.flatnonzero(clean):
        talk = act[:, j].astype(bool)
        if quiet is not None:
            talk = talk & ~quiet
        frames = np.flatnonzero(talk)
        if len(frames) < 2:
            continue
        cuts = np.flatnonzero(np.diff(frames) > gap)
        if not len(cuts):
            continue
        bounds = zip(np.r_[frames[0], frames[cuts + 1]], np.r_[frames[cuts] + 1, frames[-1] + 1])
        spans = []
        for f0, f1 in bounds:
            solo_s = (solo[:, j] & (seg_idx >= f0) & (seg_idx < f1)).sum() * FBANK_STEP
            if solo_s >= opts.min_piece:
                spans.append((int(j), int(f0), int(f1)))
        if len(spans) >= 2:
            out += spans
    return out


def _move_pieces(
    activity: np.ndarray, assignment: np.ndarray, pieces, cents: np.ndarray, margin: float, relative: float = 0.0
):
    """Activity and assignment with each stretch that sounds clearly like another person than its
    local speaker's moved to an extra channel of that person."""
    moves = []
    for w, ps in enumerate(pieces):
        for j, f0, f1, v in ps:
            cur = assignment[w, j]
            if cur < 0:
                continue
            sims = v @ cents.T
            best = int(np.argmax(sims))
            need = margin if relative <= 0 else min(margin, relative * (1 - float(cents[best] @ cents[cur])))
            if best != cur and sims[best] - sims[cur] > need:
                moves.append((w, j, f0, f1, best))
    if not moves:
        return activity, assignment
    per_window = np.bincount([m[0] for m in moves], minlength=len(activity))
    extra = int(per_window.max())
    W, F, L = activity.shape
    act = np.concatenate([activity, np.zeros((W, F, extra), activity.dtype)], axis=2)
    asg = np.concatenate([assignment, np.full((W, extra), -1, assignment.dtype)], axis=1)
    used = np.zeros(W, dtype=int)
    for w, j, f0, f1, best in moves:
        c = L + used[w]
        used[w] += 1
        act[w, f0:f1, c] = act[w, f0:f1, j]
        act[w, f0:f1, j] = 0
        asg[w, c] = best
    return act, asg


class OverlapDiarizer:
    """Segmentation + CAM++ + the lenient voice detector; diarize many recordings with one instance."""

    one_pass = True  # all the work happens while the blocks are read (file jobs scale progress to it)

    def __init__(self, threads: int | None = None, segmenter=None, encoder=None, vad=None) -> None:
        from engine.audio.vad import SileroVAD
        from engine.speakers.campplus import CamEncoder
        from engine.speakers.segmentation import Segmenter

        self.segmenter = segmenter or Segmenter(threads=threads)
        self.encoder = encoder or CamEncoder(threads=threads)
        self.speech_vad = SileroVAD(threshold=0.3, speech_pad_ms=300, min_silence_ms=800, max_speech_s=None, share=vad)
        self.options = OverlapOptions()

    # -- the one pass over the audio ----------------------------------------------------------
    def _windows(self, blocks: Iterable[np.ndarray], opts: OverlapOptions, cancel, progress, total_seconds):
        from engine.speakers.segmentation import step_samples, stream_windows

        speech_stream = self.speech_vad.stream()
        speech: list[tuple[float, float]] = []

        def tee() -> Iterable[np.ndarray]:  # the voice detector reads the same blocks
            for block in blocks:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Diarization cancelled.")
                block = np.asarray(block, dtype=np.float32).reshape(-1)
                speech.extend(speech_stream.push(block))
                yield block

        windows, seen = stream_windows(tee(), step_samples(opts.step))
        out = _Windows()
        pending: list[tuple[int, np.ndarray]] = []
        for start, audio in windows:
            pending.append((start, audio))
            if len(pending) >= opts.batch:
                self._process(pending, opts, out)
                pending.clear()
                if progress and total_seconds:
                    progress(min(0.95, 0.95 * start / SAMPLE_RATE / total_seconds))
        if pending:
            self._process(pending, opts, out)
        speech.extend(speech_stream.finish())
        return out, speech, seen[0] / SAMPLE_RATE

    def _process(self, pending: list[tuple[int, np.ndarray]], opts: OverlapOptions, out: _Windows) -> None:
        from engine.speakers.segmentation import POWERSET

        logp = self.segmenter.infer(np.stack([w for _, w in pending]))
        activity = POWERSET[np.argmax(logp, axis=-1)]  # [B, F, 3] 0/1
        grid = GRID
        for (start, audio), act in zip(pending, activity):
            feats = self.encoder.features(audio)  # [T, 80]
            times = FBANK_OFFSET + FBANK_STEP * np.arange(len(feats))
            seg_idx = np.clip(np.rint((times - grid.offset) / grid.step).astype(int), 0, len(act) - 1)
            act_fb = act[seg_idx].astype(bool)  # [T, L]
            solo = act_fb & (act_fb.sum(axis=1, keepdims=True) == 1)
            L = act.shape[1]
            pieces, which, clean, weak = [], [], np.zeros(L, bool), np.zeros(L, bool)
            for j in range(L):
                if solo[:, j].sum() * FBANK_STEP >= opts.min_clean:
                    pieces.append(feats[solo[:, j]])
                    clean[j] = True
                elif act_fb[:, j].sum() * FBANK_STEP >= opts.min_weak:
                    pieces.append(feats[act_fb[:, j]])
                    weak[j] = True
                else:
                    continue
                which.append(j)
            quiet = _quiet_frames(audio, len(act), opts.pause_db)
            spans = _stretches(act, clean, solo, seg_idx, opts, quiet)
            pieces += [feats[solo[:, j] & (seg_idx >= f0) & (seg_idx < f1)] for j, f0, f1 in spans]
            emb = np.zeros((L, self.encoder.dim), dtype=np.float32)
            vectors = self.encoder.embed_frames(pieces) if pieces else np.zeros((0, self.encoder.dim))
            emb[which] = vectors[: len(which)]
            out.pieces.append([(j, f0, f1, v) for (j, f0, f1), v in zip(spans, vectors[len(which) :])])
            out.starts.append(start / SAMPLE_RATE)
            out.activity.append(act.astype(np.uint8))
            out.emb.append(emb)
            out.clean.append(clean)
            out.weak.append(weak)

    # -- from windows to people -----------------------------------------------------------------
    def __call__(
        self,
        audio: np.ndarray | Iterable[np.ndarray],
        options: DiarizationOptions | None = None,
        cancel: threading.Event | None = None,
        progress: Callable[[float], None] | None = None,
        total_seconds: float | None = None,
        overlap: OverlapOptions | None = None,
    ) -> Diarization:
        """Diarize a 16 kHz array or a stream of blocks; ``total_seconds`` lets progress move."""
        d_opts = options or DiarizationOptions()
        d_opts.check()
        opts = overlap or self.options
        if isinstance(audio, np.ndarray):
            total_seconds = total_seconds or len(audio) / SAMPLE_RATE
            chunk = SAMPLE_RATE * 30
            blocks: Iterable[np.ndarray] = (audio[i : i + chunk] for i in range(0, len(audio), chunk))
        else:
            blocks = audio
        win, speech, duration = self._windows(blocks, opts, cancel, progress, total_seconds)
        result = self.diarize_windows(win, speech, duration, d_opts, opts)
        if progress:
            progress(1.0)
        return result

    def diarize_windows(
        self, win: _Windows, speech: list[tuple[float, float]], duration: float, d_opts: DiarizationOptions, opts
    ) -> Diarization:
        dim = self.encoder.dim
        if not win.starts:
            return Diarization([], 0, np.zeros((0, dim), dtype=np.float32))
        activity = np.stack(win.activity)  # [W, F, L]
        emb = np.stack(win.emb)  # [W, L, d]
        clean, weak = np.stack(win.clean), np.stack(win.weak)
        active = activity.any(axis=1)
        X = emb[clean]
        if len(X) == 0:  # no one talks alone anywhere: fall back to whatever embeddings exist
            clean, weak = clean | weak, np.zeros_like(weak)
            X = emb[clean]
        if len(X) == 0:
            return Diarization([], 0, np.zeros((0, dim), dtype=np.float32))
        windows = np.nonzero(clean)[0]  # the window of each row of X
        from engine.speakers.segmentation import WINDOW

        # windows this many steps apart share no audio (the split test's copies check)
        clustering = replace(opts.clustering, split_disjoint=max(1, int(np.ceil(WINDOW / opts.step - 1e-9))))
        labels = cluster_embeddings(
            X, d_opts.min_speakers, d_opts.max_speakers, d_opts.num_speakers, clustering, windows
        )
        from engine.speakers.clustering import centroids

        cents = centroids(X, labels)
        assignment = assign_windows(emb, clean, active, cents, weak)
        activity, assignment = _move_pieces(
            activity, assignment, win.pieces, cents, opts.piece_margin, opts.piece_relative
        )
        grid = GRID
        score, count = aggregate(activity, np.asarray(win.starts), assignment, len(cents), grid)
        del activity, emb  # the largest arrays of a long meeting: gone before the frame-level steps
        n = len(score)
        keep = int(np.searchsorted(grid.centre(np.arange(n)), duration))
        score, count = score[:keep], count[:keep]
        who = frame_speakers(score, count)
        primary = who[:, 0]
        seg_speech = primary >= 0
        vad_mask = speech_mask(speech, len(primary), grid)
        if opts.extent == "bridge":
            mask = bridge_gaps(seg_speech, vad_mask, int(round(opts.max_gap / grid.step)))
            mask |= vad_mask & dilate(seg_speech, int(round(opts.widen / grid.step)))
        else:
            mask = {"vad": vad_mask, "segmentation": seg_speech, "union": vad_mask | seg_speech}[opts.extent]
        primary = fill_speech(primary, mask)
        min_frames = int(round(opts.min_turn / grid.step))
        primary = absorb_short(primary, min_frames)
        if opts.join_pause > 0:
            primary = join_pauses(primary, int(round(opts.join_pause / grid.step)))
        secondary = np.where(mask & (primary >= 0) & (who[:, 1] != primary), who[:, 1], -1)
        secondary = np.where(secondary == primary, -1, secondary)
        turns = [Turn(a, b, k) for a, b, k in to_turns(primary, grid, duration)]
        overlaps = [Turn(a, b, k) for a, b, k in to_turns(secondary, grid, duration) if b - a >= 0.1]
        all_turns, cents_ordered = _order_by_appearance(turns + overlaps, cents)
        turns, overlaps = all_turns[: len(turns)], all_turns[len(turns) :]
        return Diarization(turns, len(cents_ordered), cents_ordered, overlaps=overlaps)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One voice vector for a clip (enrolment)."""
        return self.encoder.embed(audio)
