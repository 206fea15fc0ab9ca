"""Kaldi log mel filterbank, the front end CAM++ was trained on, in numpy.

3D-Speaker computes ``torchaudio.compliance.kaldi.fbank(wav, num_mel_bins=80, dither=0)`` on
samples in [-1, 1] and subtracts the utterance mean; this is the same computation with Kaldi's
defaults spelled out (25 ms Povey window, 10 ms shift, whole frames only, DC removal and
pre-emphasis per frame, 512-point power spectrum, 80 triangles on Kaldi's mel scale from 20 Hz to
Nyquist, log floored at float32 epsilon), so neither torchaudio nor Kaldi is needed. The mean is
left to the caller: a window's frames are computed once and subsets of them embedded.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.audio import SAMPLE_RATE

N_MELS = 80
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms: 100 frames a second
N_FFT = 512  # the frame rounded up to a power of two
LOW_HZ = 20.0
PREEMPHASIS = 0.97
LOG_FLOOR = float(np.finfo(np.float32).eps)
CHUNK = 2048  # frames per FFT batch: bounds memory on long recordings


def num_frames(n_samples: int) -> int:
    """Frames of ``n_samples`` samples: only whole 25 ms frames (Kaldi's ``snip_edges``)."""
    return 0 if n_samples < FRAME else 1 + (n_samples - FRAME) // SHIFT


def _kaldi_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@lru_cache(maxsize=2)
def mel_banks(n_mels: int = N_MELS) -> np.ndarray:
    """Kaldi's triangles [n_mels, N_FFT // 2 + 1], spaced evenly in mel and drawn in mel (read-only)."""
    lo, hi = _kaldi_mel(LOW_HZ), _kaldi_mel(SAMPLE_RATE / 2)
    step = (hi - lo) / (n_mels + 1)
    left = lo + step * np.arange(n_mels)[:, None]
    mel = _kaldi_mel(np.arange(N_FFT // 2) * SAMPLE_RATE / N_FFT)[None, :]
    up = (mel - left) / step
    down = (left + 2 * step - mel) / step
    banks = np.pad(np.maximum(0.0, np.minimum(up, down)), ((0, 0), (0, 1)))  # Kaldi skips the Nyquist bin
    out = banks.astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def povey_window() -> np.ndarray:
    """Kaldi's default window: a symmetric Hann raised to 0.85 (read-only)."""
    n = np.arange(FRAME)
    w = ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))) ** 0.85).astype(np.float32)
    w.setflags(write=False)
    return w


def fbank(audio: np.ndarray) -> np.ndarray:
    """Log mel frames [num_frames(len(audio)), 80] of 16 kHz float audio in [-1, 1], mean not removed."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = num_frames(len(audio))
    out = np.empty((n, N_MELS), dtype=np.float32)
    if n == 0:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(audio, FRAME)[::SHIFT]
    banks_t = mel_banks().T
    for i in range(0, n, CHUNK):
        x = windows[i : i + CHUNK]
        x = x - x.mean(axis=1, keepdims=True)
        # Kaldi's pre-emphasis, the first sample against itself
        x = np.concatenate([x[:, :1] * (1 - PREEMPHASIS), x[:, 1:] - PREEMPHASIS * x[:, :-1]], axis=1)
        spec = np.fft.rfft(x * povey_window(), n=N_FFT, axis=1)
        power = spec.real**2 + spec.imag**2
        out[i : i + len(x)] = np.log(np.maximum(power @ banks_t, LOG_FLOOR))
    return out
