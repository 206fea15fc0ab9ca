"""Whisper's log-mel front end in numpy (no torch at transcription time)."""

from __future__ import annotations

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.audio.mel import hann, mel_filters

N_FFT = 400
HOP_LENGTH = 160
CHUNK_SECONDS = 30
N_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames per window
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100
TOKENS_PER_SECOND = 50  # encoder output positions per second (stride 2)


def log_mel(audio: np.ndarray, n_mels: int = 80, n_frames: int = N_FRAMES) -> np.ndarray:
    """Log-mel features [n_mels, n_frames] of one window, zero-padded to 30 s."""
    audio = np.asarray(audio, dtype=np.float32)[:N_SAMPLES]
    padded = np.zeros(N_SAMPLES + N_FFT, dtype=np.float32)
    # centre the STFT frames: reflect-pad by N_FFT // 2 on both sides of the 30 s buffer
    body = np.zeros(N_SAMPLES, dtype=np.float32)
    body[: len(audio)] = audio
    half = N_FFT // 2
    padded[half : half + N_SAMPLES] = body
    padded[:half] = body[1 : half + 1][::-1]
    padded[half + N_SAMPLES :] = body[-half - 1 : -1][::-1]
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH][:n_frames]
    spec = np.fft.rfft(frames * hann(N_FFT), axis=-1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    mel = mel_filters(n_mels, N_FFT) @ power.T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)
