"""Voice activity detection with Silero VAD, run by onnxruntime on numpy arrays.

Why: Whisper hallucinates on silence and wastes time on it, so only speech is sent to
the recogniser. The model files ship with the ``silero-vad`` package, but that
package's Python code imports torch, which is not allowed at transcription time; this
module therefore only *locates* the package and loads its ONNX files itself.

The model is recurrent: it sees 512 new samples (32 ms at 16 kHz) per step, each
preceded by the last 64 samples of the previous step, and carries an LSTM state. Two of
the shipped files are used:

* ``silero_vad_16k_sequence.onnx`` (preferred): inputs ``input`` (frames, 576),
  ``h`` and ``c`` (1, 1, 128); outputs ``speech_probs`` (frames,), ``hn``, ``cn``. It
  runs the whole recurrence over many frames in one call, which removes the per-frame
  Python and onnxruntime overhead (about 2x faster; probabilities are identical).
* ``silero_vad.onnx`` (fallback): inputs ``input`` (batch, 576), ``state``
  (2, batch, 128), ``sr`` (int64 scalar); outputs ``output`` (batch, 1), ``stateN``.
  One call per frame.

Speech regions come from the per-frame probabilities with hysteresis: speech starts when
the probability reaches ``threshold`` and ends once it has stayed below
``threshold - 0.15`` for ``min_silence_ms``.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import ModelError

FRAME = 512  # samples per model step at 16 kHz
CONTEXT = 64  # samples of the previous step prepended to each step
FRAME_SECONDS = FRAME / SAMPLE_RATE

_SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"
_FRAME_MODEL = "silero_vad.onnx"
_Region = tuple[float, float]  # (start_s, end_s)
_MAX_FRAMES_PER_CALL = 1024  # bounds the (frames, 576) input to ~2.4 MB

_MISSING = "Voice activity model not found: install the 'silero-vad' package (pip install silero-vad)."


def find_model_dir() -> Path:
    """The ``data`` folder of the installed silero-vad package, found without importing it.

    Importing ``silero_vad`` would import torch, so only its location is looked up. An
    installer's bundled copy (``vad/`` in the bundled models) comes first.
    """
    from engine.paths import bundled_model

    bundled = bundled_model("vad")
    if bundled is not None and ((bundled / _SEQUENCE_MODEL).is_file() or (bundled / _FRAME_MODEL).is_file()):
        return bundled
    try:
        spec = importlib.util.find_spec("silero_vad")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(_MISSING)
    for location in spec.submodule_search_locations:
        data = Path(location) / "data"
        if (data / _SEQUENCE_MODEL).is_file() or (data / _FRAME_MODEL).is_file():
            return data
    raise ModelError(_MISSING)


def _ort_load_errors() -> tuple[type[BaseException], ...]:
    """The exception types onnxruntime raises for a bad model file (they share no useful base)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "InvalidProtobuf", "InvalidGraph")
    found = tuple(getattr(state, n) for n in names if isinstance(getattr(state, n, None), type))
    return (*found, OSError, RuntimeError)


class _Runner:
    """One onnxruntime session plus the recurrent state of one audio stream."""

    def __init__(self, session, sequence: bool) -> None:
        self.session = session
        self.sequence = sequence
        self.reset()

    def reset(self) -> None:
        if self.sequence:
            self.h = np.zeros((1, 1, 128), dtype=np.float32)
            self.c = np.zeros((1, 1, 128), dtype=np.float32)
        else:
            self.state = np.zeros((2, 1, 128), dtype=np.float32)
            self.sr = np.array(SAMPLE_RATE, dtype=np.int64)

    def run(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for ``x`` of shape (frames, CONTEXT + FRAME), in order."""
        if self.sequence:
            out = []
            for i in range(0, x.shape[0], _MAX_FRAMES_PER_CALL):
                probs, self.h, self.c = self.session.run(
                    None, {"input": x[i : i + _MAX_FRAMES_PER_CALL], "h": self.h, "c": self.c}
                )
                out.append(probs.reshape(-1))
            return np.concatenate(out) if len(out) > 1 else out[0]
        probs = np.empty(x.shape[0], dtype=np.float32)
        feed = {"input": None, "state": self.state, "sr": self.sr}
        for i in range(x.shape[0]):
            feed["input"] = x[i : i + 1]
            prob, feed["state"] = self.session.run(None, feed)
            probs[i] = prob[0, 0]
        self.state = feed["state"]
        return probs


class VadStream:
    """Speech regions of one audio stream, fed block by block.

    Keeps the model state, the partial last frame and the region being built, so
    blocks of any length can be pushed and each region is returned as soon as it is
    closed. Times are absolute seconds from the start of the stream.
    """

    def __init__(self, vad: SileroVAD, max_speech_s: float | None) -> None:
        self.vad = vad
        self.runner = _Runner(vad._session, vad._sequence)
        self.context = np.zeros(CONTEXT, dtype=np.float32)
        self.leftover = np.zeros(0, dtype=np.float32)
        self.frames_done = 0  # model steps processed
        self.samples_in = 0  # samples pushed
        self.speech_seconds = 0.0
        self.max_frames: int | None = None  # region length (frames) at which a region is cut
        if max_speech_s and max_speech_s > 0:
            self.max_frames = max(2, int(max_speech_s / FRAME_SECONDS))
        # Region state, in frames.
        self.triggered = False
        self.start = 0
        self.temp_end: int | None = None
        self.region_probs: list[float] = []  # only kept when max_speech_s is set
        self.last_end = 0.0  # end (seconds) of the last region returned

    @property
    def pending_start(self) -> float:
        """Earliest time (s) at which a region not yet returned can start; older audio is done with."""
        frame = self.start if self.triggered else self.frames_done
        return max(frame * FRAME_SECONDS - self.vad.speech_pad, self.last_end, 0.0)

    def push(self, audio: np.ndarray) -> list[tuple[float, float]]:
        """Feed 16 kHz mono samples; return the regions that closed."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        self.samples_in += audio.size
        if self.leftover.size:
            audio = np.concatenate([self.leftover, audio])
        n = audio.size // FRAME
        self.leftover = audio[n * FRAME :].copy()
        if n == 0:
            return []
        return self._frames(audio[: n * FRAME].reshape(n, FRAME))

    def finish(self) -> list[tuple[float, float]]:
        """End of stream: process the zero-padded last frame and close any open region."""
        out: list[tuple[float, float]] = []
        if self.leftover.size:
            last = np.zeros((1, FRAME), dtype=np.float32)
            last[0, : self.leftover.size] = self.leftover
            self.leftover = np.zeros(0, dtype=np.float32)
            out += self._frames(last)
        total = self.samples_in / SAMPLE_RATE
        if self.triggered:
            end = self.temp_end if self.temp_end is not None else self.frames_done
            region = self._close(self.start, end, pad_end=True, limit=total)
            if region:
                out.append(region)
            self.triggered = False
        return out

    def probs(self, frames: np.ndarray) -> np.ndarray:
        """Model probabilities for consecutive (n, 512) frames, continuing the stream."""
        x = np.empty((frames.shape[0], CONTEXT + FRAME), dtype=np.float32)
        x[:, CONTEXT:] = frames
        x[0, :CONTEXT] = self.context
        if frames.shape[0] > 1:
            x[1:, :CONTEXT] = frames[:-1, -CONTEXT:]
        self.context = frames[-1, -CONTEXT:].copy()
        return self.runner.run(x)

    def _frames(self, frames: np.ndarray) -> list[tuple[float, float]]:
        probs = self.probs(frames)
        vad = self.vad
        out: list[tuple[float, float]] = []
        on, off = vad.threshold, vad.neg_threshold
        keep = self.max_frames is not None
        i = self.frames_done
        for p in probs.tolist():
            if not self.triggered:
                if p >= on:
                    self.triggered, self.start, self.temp_end = True, i, None
                    self.region_probs = [p] if keep else []
                i += 1
                continue
            if keep:
                self.region_probs.append(p)
            if p >= on:
                self.temp_end = None
            elif p < off and self.temp_end is None:
                self.temp_end = i
            if self.temp_end is not None and i + 1 - self.temp_end >= vad.min_silence_frames:
                region = self._close(self.start, self.temp_end, pad_end=True)
                if region:
                    out.append(region)
                self.triggered = False
            elif keep and i + 1 - self.start > self.max_frames:
                out += self._cut()
            i += 1
        self.frames_done = i
        return out

    def _cut(self) -> list[tuple[float, float]]:
        """The open region reached max_speech: split it where speech is least likely."""
        assert self.max_frames is not None
        if self.temp_end is not None and self.temp_end - self.start >= self.vad.min_speech_frames:
            # Already in a pause: end the region there, as a normal close would.
            region = self._close(self.start, self.temp_end, pad_end=True)
            self.triggered = False
            return [region] if region else []
        probs = np.asarray(self.region_probs, dtype=np.float32)
        half = len(probs) // 2
        cut = self.start + half + int(np.argmin(probs[half:]))
        region = self._close(self.start, cut, pad_end=False)
        self.region_probs = self.region_probs[cut - self.start :]
        self.start = cut
        return [region] if region else []

    def _close(self, start: int, end: int, pad_end: bool, limit: float | None = None) -> _Region | None:
        """Pad a finished region (frames) and convert it to seconds; None if too short."""
        if end - start < self.vad.min_speech_frames:
            return None
        pad = self.vad.speech_pad
        s = max(start * FRAME_SECONDS - pad, self.last_end, 0.0)
        e = end * FRAME_SECONDS + (self.vad.end_pad if pad_end else 0.0)
        if limit is not None:
            e = min(e, limit)
        if e <= s:
            return None
        self.last_end = e
        self.speech_seconds += e - s
        return (s, e)


class SileroVAD:
    """Finds speech in 16 kHz mono audio.

    ``threshold``: a frame is speech when its probability reaches this.
    ``min_speech_ms``: shorter bursts (clicks, coughs) are dropped.
    ``min_silence_ms``: a pause must last this long to end a region; 200 ms keeps stop
    consonants and quick breaths inside one region.
    ``speech_pad_ms``: added before each region (and after it, up to half the minimum
    pause) because the probability rises late on soft onsets and falls early on
    trailing fricatives; 100 ms keeps those in.
    ``max_speech_s``: longer stretches of speech are cut at their least speech-like frame
    (in the second half), so a recogniser window never has to cut mid-word.
    ``share``: another detector whose loaded model this one uses (settings are per detector,
    the model is not; a session may be run from several threads at once).
    """

    def __init__(
        self,
        threshold: float = 0.5,
        min_speech_ms: int = 250,
        min_silence_ms: int = 200,
        speech_pad_ms: int = 100,
        num_threads: int = 1,
        max_speech_s: float | None = 28.0,
        model_path: str | os.PathLike[str] | None = None,
        share: SileroVAD | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = float(threshold)
        self.neg_threshold = max(self.threshold - 0.15, 0.01)
        self.min_speech_frames = max(1, math.ceil(min_speech_ms / 1000 / FRAME_SECONDS))
        self.min_silence_frames = max(1, math.ceil(min_silence_ms / 1000 / FRAME_SECONDS))
        self.speech_pad = max(0.0, speech_pad_ms / 1000)
        # Trailing pad never reaches past the middle of the shortest pause that ends a region,
        # so regions never overlap.
        self.end_pad = min(self.speech_pad, self.min_silence_frames * FRAME_SECONDS / 2)
        self.max_speech_s = max_speech_s
        if share is not None:
            self._session, self._sequence = share._session, share._sequence
        else:
            self._session, self._sequence = self._load(model_path, num_threads)

    @staticmethod
    def _load(model_path: str | os.PathLike[str] | None, num_threads: int):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError(
                "onnxruntime is not installed: install it (pip install onnxruntime) to detect speech."
            ) from None
        if model_path is None:
            data = find_model_dir()
            path = data / _SEQUENCE_MODEL
            if not path.is_file():
                path = data / _FRAME_MODEL
        else:
            path = Path(model_path)
            if not path.is_file():
                raise ModelError(f"Voice activity model not found: {path} — check the path.")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(num_threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # the shipped files trigger harmless "unused initializer" warnings
        try:
            session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except _ort_load_errors() as exc:
            detail = " ".join(str(exc).split())[:200]
            raise ModelError(
                f"Voice activity model '{path.name}' could not be loaded ({detail}) — "
                "reinstall the 'silero-vad' package."
            ) from None
        names = {i.name for i in session.get_inputs()}
        if names == {"input", "h", "c"}:
            return session, True
        if names == {"input", "state", "sr"}:
            return session, False
        what = f"'{path.name}' is not a Silero VAD model this app understands"
        raise ModelError(f"{what} (inputs: {sorted(names)}).")

    def stream(self, max_speech_s: float | None = None) -> VadStream:
        """A fresh stream to push blocks into (``max_speech_s`` overrides the default)."""
        return VadStream(self, self.max_speech_s if max_speech_s is None else max_speech_s)

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        """One speech probability per 512-sample (32 ms) frame; the last frame is zero-padded."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        n = math.ceil(audio.size / FRAME)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        frames = np.zeros(n * FRAME, dtype=np.float32)
        frames[: audio.size] = audio
        return self.stream().probs(frames.reshape(n, FRAME))

    def regions(self, blocks: Iterable[np.ndarray]) -> Iterator[tuple[float, float]]:
        """Speech regions (start_s, end_s) of a stream of 16 kHz blocks, each yielded once closed."""
        stream = self.stream()
        for block in blocks:
            yield from stream.push(block)
        yield from stream.finish()

    def regions_from_array(self, audio: np.ndarray) -> list[tuple[float, float]]:
        """Speech regions of a whole 16 kHz mono array."""
        return list(self.regions([audio]))
