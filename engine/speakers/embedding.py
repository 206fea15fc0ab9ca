"""Speaker embeddings: GE2E in ONNX Runtime over mel power frames, batched over windows.

The front end reproduces the encoder's training features (librosa ``melspectrogram``: 25 ms
Hann window, 10 ms hop, centred with zero padding, power 2, 40 Slaney mel bands, no log) in
numpy, so neither librosa nor torch is needed at run time.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.audio.mel import hann, mel_filters
from engine.paths import bundled_models_dir, data_dir
from engine.speakers import ge2e
from engine.speakers.onnx_files import cpu_session, export_once

log = logging.getLogger("minutes.speakers")

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: 100 frames a second
FRAMES_PER_SECOND = SAMPLE_RATE // HOP
TARGET_DBFS = -30.0  # the encoder's training loudness; quieter input is raised to it


def mel_power(audio: np.ndarray) -> np.ndarray:
    """Mel power frames [n_frames, 40] for 16 kHz audio (1 + len // 160 frames)."""
    audio = np.asarray(audio, dtype=np.float32)
    padded = np.pad(audio, N_FFT // 2)
    if len(padded) < N_FFT:
        padded = np.pad(padded, (0, N_FFT - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spec = np.fft.rfft(frames * hann(N_FFT), axis=-1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return power @ mel_filters(ge2e.N_MELS, N_FFT).T


class MelStream:
    """Mel power frames of a stream of 16 kHz blocks, equal to ``mel_power`` of the whole signal.

    Keeps only the frames (16 kB a second), so a two-hour meeting never sits in memory as
    samples. Loudness normalization is a gain, and mel power scales with its square, so the
    gain is applied at the end from the running RMS.
    """

    def __init__(self) -> None:
        self.tail = np.zeros(N_FFT // 2, dtype=np.float32)  # centre padding, then the unused samples
        self.tail_start = -(N_FFT // 2)  # sample index of tail[0]
        self.next_frame = 0
        self.frames: list[np.ndarray] = []
        self.samples = 0
        self.energy = 0.0

    def push(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self.samples += len(block)
        self.energy += float(np.square(block, dtype=np.float64).sum())
        self.tail = np.concatenate([self.tail, block])
        self._emit()

    def _emit(self) -> None:
        # frame i covers samples [i*HOP - N_FFT/2, i*HOP + N_FFT/2)
        first = self.next_frame * HOP - N_FFT // 2 - self.tail_start
        n = (len(self.tail) - first - N_FFT) // HOP + 1
        if n <= 0:
            return
        view = np.lib.stride_tricks.sliding_window_view(self.tail[first:], N_FFT)[::HOP][:n]
        spec = np.fft.rfft(view * hann(N_FFT), axis=-1)
        self.frames.append(((spec.real**2 + spec.imag**2).astype(np.float32)) @ mel_filters(ge2e.N_MELS, N_FFT).T)
        self.next_frame += n
        keep_from = self.next_frame * HOP - N_FFT // 2 - self.tail_start
        self.tail = self.tail[keep_from:]
        self.tail_start += keep_from

    def finish(self) -> np.ndarray:
        """All frames (1 + samples // 160), loudness-normalized like ``features``."""
        total = 1 + self.samples // HOP
        need = (total - 1) * HOP + N_FFT // 2 - (self.tail_start + len(self.tail))
        if need > 0:
            self.tail = np.concatenate([self.tail, np.zeros(need, dtype=np.float32)])
            self._emit()
        mel = np.concatenate(self.frames)[:total] if self.frames else np.zeros((0, ge2e.N_MELS), np.float32)
        rms = np.sqrt(self.energy / self.samples) if self.samples else 0.0
        if rms > 1e-6:
            gain_db = TARGET_DBFS - 20 * np.log10(rms)
            if gain_db > 0:
                mel = mel * np.float32(10 ** (gain_db / 10))  # power: the square of the amplitude gain
        return mel


def normalize_volume(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to the training loudness (never lowers it), as the encoder expects."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    if rms <= 1e-6:
        return audio
    gain_db = target_dbfs - 20 * np.log10(rms)
    return audio * np.float32(10 ** (gain_db / 20)) if gain_db > 0 else audio


def _model_path() -> Path:
    """The ONNX encoder in the data folder, exported from the packaged weights on first use."""
    root = bundled_models_dir()
    bundled = sorted(root.glob("ge2e/encoder-*.onnx")) if root is not None else []
    if bundled:  # an installer's export: the packaged weights (and torch) are not in the bundle
        return bundled[-1]
    weights = ge2e.weights_path()
    st = weights.stat()
    key = hashlib.sha1(f"{st.st_size}".encode()).hexdigest()[:8]
    out = data_dir() / "models" / "ge2e" / f"encoder-{key}.onnx"
    return export_once(out, lambda tmp: ge2e.export_onnx(tmp, weights))


class SpeakerEncoder:
    """GE2E on ONNX Runtime (CPU: the LSTM is small and batches of windows keep both cores busy)."""

    def __init__(self, threads: int | None = None, model_path: str | os.PathLike[str] | None = None) -> None:
        path = Path(model_path) if model_path else _model_path()
        self.session = cpu_session(path, threads)

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """Unit-length embeddings [batch, 256] of equal-length mel frames [batch, frames, 40]."""
        if len(mels) == 0:
            return np.zeros((0, ge2e.EMBED), dtype=np.float32)
        return self.session.run(None, {"mels": np.ascontiguousarray(mels, dtype=np.float32)})[0]

    @staticmethod
    def features(audio: np.ndarray) -> np.ndarray:
        """Mel frames of a whole recording, computed once and sliced per window."""
        return mel_power(normalize_volume(np.asarray(audio, dtype=np.float32)))

    def embed_spans(
        self,
        audio: np.ndarray | None,
        spans: Sequence[tuple[float, float]],
        batch: int = 64,
        mel: np.ndarray | None = None,
    ) -> np.ndarray:
        """One embedding per (start, end) span of ``audio`` (seconds); spans of one length batch together.

        Pass ``mel`` (from ``features``) to embed many groups of spans of one recording
        without recomputing its front end.
        """
        out = np.zeros((len(spans), ge2e.EMBED), dtype=np.float32)
        if not spans:
            return out
        if mel is None:
            mel = self.features(audio)
        groups: dict[int, list[int]] = {}
        bounds = []
        for i, (a, b) in enumerate(spans):
            f0 = min(max(0, int(round(a * FRAMES_PER_SECOND))), len(mel) - 1)
            f1 = min(len(mel), max(f0 + 1, int(round(b * FRAMES_PER_SECOND))))
            bounds.append((f0, f1))
            groups.setdefault(f1 - f0, []).append(i)
        for length, idx in groups.items():
            for k in range(0, len(idx), batch):
                part = idx[k : k + batch]
                mels = np.stack([mel[bounds[i][0] : bounds[i][0] + length] for i in part])
                out[part] = self.embed_mels(mels)
        return out

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One embedding for a whole utterance: mean of 1.6 s partials, as the encoder was used in training."""
        n = len(audio) / SAMPLE_RATE
        if n <= 1.6:
            spans = [(0.0, n)]
        else:
            starts = np.arange(0.0, n - 1.6 + 1e-9, 0.8)
            spans = [(float(s), float(s) + 1.6) for s in starts]
        e = self.embed_spans(audio, spans).mean(axis=0)
        return e / max(float(np.linalg.norm(e)), 1e-12)
