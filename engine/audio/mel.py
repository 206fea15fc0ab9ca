"""Mel filterbanks: one construction for Whisper's features and the speaker encoder's.

Both models were trained on librosa's Slaney mel scale with Slaney area normalisation; the
two front ends differ only in band count and what follows (log for Whisper, power for GE2E),
so the triangles are built here once and each front end asks for its size.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.audio import SAMPLE_RATE

_F_BREAK = 1000.0  # Hz: the Slaney scale is linear below, logarithmic above
_F_STEP = 200.0 / 3  # Hz per mel in the linear part
_LOG_STEP = np.log(6.4) / 27.0  # log-Hz per mel in the logarithmic part
_M_BREAK = 15.0  # the mel value at _F_BREAK


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above (librosa's ``htk=False``)."""
    f = np.asarray(f, dtype=np.float64)
    return np.where(f >= _F_BREAK, _M_BREAK + np.log(np.maximum(f, 1e-10) / _F_BREAK) / _LOG_STEP, f / _F_STEP)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= _M_BREAK, _F_BREAK * np.exp(_LOG_STEP * (m - _M_BREAK)), m * _F_STEP)


@lru_cache(maxsize=8)
def mel_filters(
    n_mels: int, n_fft: int, sample_rate: int = SAMPLE_RATE, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Slaney-normalised triangular filters over [fmin, fmax] (default: up to Nyquist), float32
    [n_mels, n_fft // 2 + 1]. Cached and shared: read-only."""
    fmax = sample_rate / 2 if fmax is None else fmax
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fft_freqs[None, :]
    weights = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
    weights *= (2.0 / (hz[2:] - hz[:-2]))[:, None]
    out = weights.astype(np.float32)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=4)
def hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window of Whisper's and GE2E's STFT (read-only, shared)."""
    n = np.arange(n_fft)
    w = (0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)).astype(np.float32)
    w.setflags(write=False)
    return w
