"""Who is speaking, locally: pyannote segmentation-3.0 over sliding 10 s windows.

The model (ONNX, located and sha256-checked by ``model_files``) reads 10 s of 16 kHz audio and
gives, for each of 589 frames, log-probabilities of seven powerset classes: nobody, one of
three local speakers, or one of the three pairs. The argmax turns into 0/1 activity of the
three local speakers; "local" because speaker 1 of one window need not be speaker 1 of the
next (clustering embeddings links them, elsewhere). What is already useful without linking:
how many speakers talk at each moment (overlap) and where anyone talks at all (speech).

Frame timing comes from the SincNet front end (pyannote.audio ``SincNet``: conv 251/10, then
max-pool 3/3, conv 5/1, max-pool 3/3, conv 5/1, max-pool 3/3): one frame sees 991 samples and
the next starts 270 samples later, so a window of T samples has (T - 991) // 270 + 1 frames
(589 for 160000; the ONNX output lengths agree: 991 -> 1, 1261 -> 2, 160000 -> 589). As in
pyannote.audio 3.1 (``Model.receptive_field``) frame i spans [270 i, 270 i + 991) samples
and stands for its centre. Window starts are whole multiples of 270 samples (the requested
step is rounded to them: 2.5 s is 2.4975 s, 1 s is 0.995625 s), so the frames of every window
fall exactly on one global grid.

Only the per-window outputs are kept (589 x 3 bytes of activity and 589 x 3 float16 scores a
window), and audio is read one window at a time, from an array, a memmap or a stream of
blocks (pages of a memmap are let go once read), so a two-hour meeting needs no more memory
than a minute of it beyond those outputs: 15 MB at a 2.5 s step, next to ONNX Runtime's
working memory for a batch of windows (about 200 MB at 8, 60 MB at 1).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import Cancelled, ModelError
from engine.speakers import model_files
from engine.speakers.onnx_files import cpu_session

WINDOW = 10.0  # seconds the model was trained on
WINDOW_SAMPLES = round(WINDOW * SAMPLE_RATE)
RECEPTIVE_FIELD = 991  # samples one frame sees: (((3 + 4) * 3 + 4) * 3 - 1) * 10 + 251, back through the layers
FRAME_HOP = 270  # samples between frames: 10 * 3 * 3 * 3
FRAME_STEP = FRAME_HOP / SAMPLE_RATE  # 0.016875 s
FRAME_DURATION = RECEPTIVE_FIELD / SAMPLE_RATE  # 0.0619375 s
FRAMES_PER_WINDOW = (WINDOW_SAMPLES - RECEPTIVE_FIELD) // FRAME_HOP + 1  # 589
LOCAL_SPEAKERS = 3

# powerset class -> which local speakers it means: {}, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}
POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]],
    dtype=np.uint8,
)

# How the last window is placed when the audio does not end on a step: "end" aligns it with the
# end of the audio (every window is all audio); "pad" starts it one step after the previous one
# and fills it with zeros, as pyannote.audio does. Scored on the last 5 s of every diarization file cut
# to 8 lengths (bench/segmentation.py --short L --tail 5): detection error 11.7% "end", 12.4% "pad"
# (end better at 6 of 8 lengths). Audio shorter than a window is zero-padded either way: running the
# model on the exact length instead was mixed (better on cuts of 3 and 7 s, worse on 5 and 9 s; 30.9 s
# vs 32.8 s of error in 222 s of speech), too little to give up one shape for every window.
LAST_WINDOW = "end"

Region = tuple[float, float]


def frame_count(samples: int) -> int:
    """Frames the model gives for ``samples`` of input (0 below one receptive field)."""
    return max(0, (samples - RECEPTIVE_FIELD) // FRAME_HOP + 1)


def step_samples(step: float) -> int:
    """The window step in samples: ``step`` seconds rounded to whole frames (at least one)."""
    if not 0 < step <= WINDOW:
        raise ValueError(f"step must be in (0, {WINDOW}] seconds, not {step}")
    return max(1, round(step * SAMPLE_RATE / FRAME_HOP)) * FRAME_HOP


def window_starts(samples: int, step: int, last: str | None = None) -> list[int]:
    """Start samples of the windows over ``samples`` of audio, ``step`` apart; ``last``: see ``LAST_WINDOW``."""
    last = last or LAST_WINDOW
    if samples <= 0:
        return []
    if samples <= WINDOW_SAMPLES:
        return [0]  # one window, zero-padded if short
    starts = list(range(0, samples - WINDOW_SAMPLES + 1, step))
    if starts[-1] + WINDOW_SAMPLES < samples:
        if last == "pad":
            starts.append(starts[-1] + step)
        else:  # aligned with the end, down to a whole frame so it stays on the grid
            end = (samples - WINDOW_SAMPLES) // FRAME_HOP * FRAME_HOP
            if end > starts[-1]:
                starts.append(end)
    return starts


@dataclass
class SpeakerCount:
    """Speakers talking at once, per frame of the global grid (frame j centred at ``frame_times()[j]``)."""

    count: np.ndarray  # [n_frames] uint8
    duration: float  # seconds of audio
    frame_step: float = FRAME_STEP
    frame_duration: float = FRAME_DURATION

    def frame_times(self) -> np.ndarray:
        return np.arange(len(self.count)) * self.frame_step + self.frame_duration / 2

    def regions(self, minimum: int = 1) -> list[Region]:
        """(start, end) seconds where at least ``minimum`` speakers talk.

        A frame stands for the ``frame_step`` around its centre; the first frame reaches back
        to 0 and the last on to the end of the audio, which no frame centre is nearer to.
        """
        on = np.concatenate([[False], self.count >= minimum, [False]])
        edges = np.flatnonzero(on[1:] != on[:-1])
        centres = self.frame_times()
        out: list[Region] = []
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            start = 0.0 if a == 0 else centres[a] - self.frame_step / 2
            end = self.duration if b == len(self.count) else centres[b - 1] + self.frame_step / 2
            out.append((float(max(0.0, start)), float(min(self.duration, end))))
        return out


@dataclass
class LocalSegmentation:
    """Activity of up to three local speakers in each 10 s window; frame k of window i is at ``frame_times(i)[k]``."""

    activity: np.ndarray  # [n_windows, FRAMES_PER_WINDOW, 3] uint8 0/1: powerset argmax
    starts: np.ndarray  # [n_windows] window start, seconds
    duration: float  # seconds of audio
    probs: np.ndarray | None = field(default=None, repr=False)  # same shape, float16: P(speaker k active)
    frame_step: float = FRAME_STEP
    frame_duration: float = FRAME_DURATION
    window: float = WINDOW

    def frame_times(self, window_index: int) -> np.ndarray:
        """Centre times (seconds) of the frames of window ``window_index``."""
        n = self.activity.shape[1]
        return self.starts[window_index] + self.frame_duration / 2 + np.arange(n) * self.frame_step

    def frame_offsets(self) -> np.ndarray:
        """Index on the global frame grid of each window's first frame (exact: starts are whole frames)."""
        return np.rint(self.starts / self.frame_step).astype(np.int64)

    def global_frames(self) -> int:
        """Frames of the global grid whose centre lies within the audio."""
        if not len(self.starts):
            return 0
        last = int(self.frame_offsets()[-1]) + self.activity.shape[1]
        inside = int(np.floor((self.duration - self.frame_duration / 2) / self.frame_step)) + 1
        return max(0, min(last, inside))

    def speaker_count(self) -> SpeakerCount:
        """Speakers talking at once per global frame: the windows' counts there, averaged and rounded.

        pyannote.audio 3.1's rule (``speaker_count`` with no warm-up, ``Inference.aggregate``
        without Hamming weights, ``np.rint``): windows that see a frame from different
        distances vote, so one that misses or invents an overlap is outvoted.
        """
        n = self.global_frames()
        if n == 0:
            return SpeakerCount(np.zeros(0, np.uint8), self.duration, self.frame_step, self.frame_duration)
        frames = self.activity.shape[1]
        index = (self.frame_offsets()[:, None] + np.arange(frames)).reshape(-1)
        local = self.activity.sum(axis=-1, dtype=np.float64).reshape(-1)
        keep = index < n
        total = np.bincount(index[keep], weights=local[keep], minlength=n)
        covered = np.bincount(index[keep], minlength=n)
        count = np.rint(total / np.maximum(covered, 1)).astype(np.uint8)
        return SpeakerCount(count, self.duration, self.frame_step, self.frame_duration)

    def speech(self) -> list[Region]:
        """(start, end) seconds where anyone speaks: the frames whose speaker count is above zero."""
        return self.speaker_count().regions(1)

    def overlap(self) -> list[Region]:
        """(start, end) seconds where two or more speak at once."""
        return self.speaker_count().regions(2)


def _as_float(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] from float or integer PCM (a memmap of 16-bit samples reads as such)."""
    if np.issubdtype(samples.dtype, np.integer):
        return samples.astype(np.float32) / np.float32(np.iinfo(samples.dtype).max + 1)
    return np.asarray(samples, dtype=np.float32)


def _padded(samples: np.ndarray) -> np.ndarray:
    if len(samples) >= WINDOW_SAMPLES:
        return samples[:WINDOW_SAMPLES]
    return np.pad(samples, (0, WINDOW_SAMPLES - len(samples)))


def _array_windows(audio: np.ndarray, step: int) -> tuple[Iterator[tuple[int, np.ndarray]], list[int]]:
    """Windows of an array, each read only when it is needed (a memmap stays on disk)."""
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono, shape (samples,), not {audio.shape}")
    box = [len(audio)]

    release = _page_releaser(audio)

    def gen() -> Iterator[tuple[int, np.ndarray]]:
        starts = window_starts(len(audio), step)
        for s, after in zip(starts, [*starts[1:], len(audio)][: len(starts)], strict=True):
            window = _padded(np.array(_as_float(audio[s : s + WINDOW_SAMPLES])))  # a copy, off the mapping
            release(after)  # no later window reads before the next one's start
            yield s, window

    return gen(), box


def _page_releaser(audio: np.ndarray):  # -> Callable[[int], None]
    """For a memmap, a function that unmaps the pages before a sample once they are read.

    Pages of a file mapping count in the process's resident memory until the kernel needs them
    back: without this, reading a two-hour recording of 32-bit samples shows as 460 MB more.
    Only for shared mappings ("r", "r+", "w+"), where the file keeps the data; a copy-on-write
    mapping ("c") may hold changes that exist nowhere else, so it is left alone.
    """
    import mmap

    mm = getattr(audio, "_mmap", None)  # numpy keeps the mmap object here, in views too
    if (
        not isinstance(audio, np.memmap)
        or getattr(audio, "mode", None) not in ("r", "r+", "w+")
        or not isinstance(mm, mmap.mmap)
        or not hasattr(mm, "madvise")
        or audio.strides[0] <= 0
    ):
        return lambda sample: None
    try:
        first = audio.ctypes.data - np.frombuffer(mm, dtype=np.uint8).ctypes.data  # byte of sample 0 in mm
    except (TypeError, ValueError):
        return lambda sample: None
    done = [first // mmap.PAGESIZE * mmap.PAGESIZE]  # bytes of mm up to which pages are released

    def release(sample: int) -> None:
        upto = (first + min(sample, len(audio)) * audio.strides[0]) // mmap.PAGESIZE * mmap.PAGESIZE
        if upto > done[0]:
            try:
                mm.madvise(mmap.MADV_DONTNEED, done[0], upto - done[0])
            except (OSError, ValueError):
                return
            done[0] = upto

    return release


def stream_windows(blocks: Iterable[np.ndarray], step: int) -> tuple[Iterator[tuple[int, np.ndarray]], list[int]]:
    """Windows of a stream of blocks, keeping at most one window (plus a block) of samples.

    The same windows as ``window_starts`` of the whole stream: full windows go out as soon as
    their samples arrive; the last one (padded or end-aligned) once the stream ends. ``box``
    holds the number of samples seen, final when the iterator is exhausted.
    """
    box = [0]

    def gen() -> Iterator[tuple[int, np.ndarray]]:
        buf = np.zeros(0, np.float32)
        buf_start = 0  # sample index of buf[0]
        next_start = 0
        emitted = 0
        for block in blocks:
            block = _as_float(np.asarray(block).reshape(-1))
            buf = np.concatenate([buf, block])
            box[0] += len(block)
            while next_start + WINDOW_SAMPLES <= box[0]:
                a = next_start - buf_start
                yield next_start, buf[a : a + WINDOW_SAMPLES].copy()
                emitted += 1
                next_start += step
            # keep what the next window needs, and a window and a frame from the end (an end-aligned last one)
            keep_from = max(buf_start, min(next_start, box[0] - WINDOW_SAMPLES - FRAME_HOP))
            buf = buf[keep_from - buf_start :]
            buf_start = keep_from
        for s in window_starts(box[0], step)[emitted:]:  # the full windows come first in both
            a = s - buf_start
            yield s, _padded(buf[a : a + WINDOW_SAMPLES])

    return gen(), box


class Segmenter:
    """pyannote segmentation-3.0 on ONNX Runtime (CPU: about a second of one core per minute at a 2.5 s step)."""

    def __init__(self, threads: int | None = None, model_path: str | os.PathLike[str] | None = None) -> None:
        path = Path(model_path) if model_path else model_files.locate(model_files.SEGMENTATION)
        self.session = cpu_session(path, threads, model_files.SEGMENTATION.what, "")
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or not outputs or outputs[0].shape[-1] != len(POWERSET):
            raise ModelError(
                f"'{path}' is not the {model_files.SEGMENTATION.what}: it should read audio and give "
                f"{len(POWERSET)} classes per frame ({model_files.INSTALL_HINT})."
            )
        self.input_name = inputs[0].name

    def infer(self, windows: np.ndarray) -> np.ndarray:
        """Log-probabilities [batch, frames, 7] of 16 kHz windows [batch, samples]."""
        x = np.ascontiguousarray(windows, dtype=np.float32)[:, None, :]
        return self.session.run(None, {self.input_name: x})[0]

    def __call__(
        self,
        audio: np.ndarray | Iterable[np.ndarray],
        step: float = 2.5,
        cancel: threading.Event | None = None,
        batch: int = 8,
    ) -> LocalSegmentation:
        """Local speaker activity in 10 s windows every ``step`` seconds (rounded to whole frames).

        ``audio``: 16 kHz mono as an array (a memmap is read one window at a time) or a
        stream of blocks (``engine.audio.decode.stream_audio``). Audio shorter than 10 s
        is one zero-padded window. Smaller steps cost proportionally more and let more
        windows vote on each frame's speaker count.
        """
        hop = step_samples(step)
        if isinstance(audio, np.ndarray):
            windows, seen = _array_windows(audio, hop)
        else:
            windows, seen = stream_windows(audio, hop)
        starts: list[int] = []
        activity: list[np.ndarray] = []
        probs: list[np.ndarray] = []
        pending: list[np.ndarray] = []

        def run() -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Speaker segmentation cancelled.")
            logp = self.infer(np.stack(pending))
            activity.append(POWERSET[np.argmax(logp, axis=-1)])
            probs.append((np.exp(logp) @ POWERSET.astype(np.float32)).astype(np.float16))
            pending.clear()

        for s, w in windows:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Speaker segmentation cancelled.")
            starts.append(s)
            pending.append(w)
            if len(pending) >= max(1, batch):
                run()
        if pending:
            run()
        shape = (0, FRAMES_PER_WINDOW, LOCAL_SPEAKERS)
        return LocalSegmentation(
            activity=np.concatenate(activity) if activity else np.zeros(shape, np.uint8),
            starts=np.asarray(starts, dtype=np.float64) / SAMPLE_RATE,
            duration=seen[0] / SAMPLE_RATE,
            probs=np.concatenate(probs) if probs else np.zeros(shape, np.float16),
        )
