"""On-the-fly augmentation for fine-tuning Whisper: speed, noise at an SNR, SpecAugment; seeded.

A team's data is minutes to hours, so each epoch should hear every clip a little differently
(another speed, other noise, other masks) instead of memorising one copy. Every draw comes from a
Generator derived from (seed, epoch, utterance index, augmentation), never a shared one: DataLoader
workers ask in any order and the result is the same, and switching one augmentation off leaves
the others' draws as they were (an ablation changes one thing).

Order, as the trainer calls it: ``augment_audio`` on the waveform (speed, then noise sized to the
new length), Whisper's log-mel (engine/asr/features.py), then ``augment_mel`` on the frames that
hold audio. Everything is numpy: the trainer augments in its Dataset and converts the batch to
torch when it collates (``torch.from_numpy``, no copy).

The settings are frozen dataclasses that map one to one onto the trainer's TOML ``[augment]``
tables (``to_dict``/``from_dict``) and onto the Training tab's switches and values.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import soxr

from engine.asr.features import HOP_LENGTH, N_FRAMES, N_SAMPLES, log_mel
from engine.audio import SAMPLE_RATE
from engine.errors import MinutesError
from engine.training.noise import NoiseSource, add_noise

TABLE = "augment"  # the trainer's TOML table; error messages name keys below it
_STREAMS = {"speed": 1, "snr": 2, "noise": 3, "spec_augment": 4}
FILLS = ("mean", "floor")


class AugmentConfigError(MinutesError):
    """An augmentation setting cannot be used: the message names the key and what is allowed."""


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise AugmentConfigError(f"{TABLE}.{key}: {message}")


def _check_range(section: str, lo_key: str, lo: float, hi: float, allowed: tuple[float, float], unit: str) -> None:
    hi_key = lo_key.replace("min_", "max_")
    for key, value in ((lo_key, lo), (hi_key, hi)):
        _require(
            allowed[0] <= value <= allowed[1],
            f"{section}.{key}",
            f"{value:g} is outside {allowed[0]:g}-{allowed[1]:g}{unit}",
        )
    _require(lo <= hi, f"{section}.{lo_key}", f"{lo:g} is above {hi_key} {hi:g}: the range is inverted")


def _check_probability(section: str, p: float) -> None:
    _require(0.0 <= p <= 1.0, f"{section}.probability", f"{p:g} is not between 0 and 1")


@dataclass(frozen=True)
class SpecAugmentConfig:
    """Time and frequency masks on the log-mel (Park et al., 2019), so the model does not lean on
    any one moment or band. Widths are drawn from 0 to the maximum, as in the paper.

    ``fill="mean"`` (default) writes the mean of the clip's audio frames: SpecAugment's "zero after
    mean normalisation", and close to the 0 Hugging Face's Whisper fine-tuning writes (on the
    asr_en clips the mean is -0.3 to 0.15). ``"floor"`` writes Whisper's silence (the log-mel is
    clamped to its max - 8 and scaled, so max - 2; -0.5 to -0.9 there): a pattern Whisper has
    only seen as padding after the speech, which trimmed encoder input never holds."""

    enabled: bool = True
    probability: float = 1.0
    time_masks: int = 2
    max_time_width: int = 10  # frames of 10 ms
    max_time_fraction: float = 0.2  # of the audio frames, so a short clip keeps most of its words
    freq_masks: int = 1
    max_freq_width: int = 5  # mel bins
    fill: str = "mean"

    def __post_init__(self) -> None:
        _check_probability("spec_augment", self.probability)
        for key in ("time_masks", "max_time_width", "freq_masks", "max_freq_width"):
            _require(getattr(self, key) >= 0, f"spec_augment.{key}", "must be 0 or more")
        _require(0.0 <= self.max_time_fraction <= 1.0, "spec_augment.max_time_fraction", "must be between 0 and 1")
        _require(self.fill in FILLS, "spec_augment.fill", f"'{self.fill}' is not one of {', '.join(FILLS)}")


@dataclass(frozen=True)
class NoiseConfig:
    """Noise added at an SNR drawn uniformly from the range (dB, over the speech's active samples).

    ``folder``: a user's noise recordings (any format the app reads); empty: babble of 3-6 other
    training clips. Half the clips stay clean by default so the model keeps clean speech (the
    forgetting check on plain English)."""

    enabled: bool = True
    probability: float = 0.5
    min_snr_db: float = 5.0
    max_snr_db: float = 20.0
    folder: str = ""
    min_babble_speakers: int = 3
    max_babble_speakers: int = 6

    def __post_init__(self) -> None:
        _check_probability("noise", self.probability)
        _check_range("noise", "min_snr_db", self.min_snr_db, self.max_snr_db, (0.0, 40.0), " dB")
        _check_range(
            "noise", "min_babble_speakers", self.min_babble_speakers, self.max_babble_speakers, (1, 32), " voices"
        )


@dataclass(frozen=True)
class SpeedConfig:
    """Speed perturbation by resampling (tempo and pitch together, text unchanged), the factor
    drawn uniformly; never slower than keeps the clip within Whisper's 30 s."""

    enabled: bool = True
    probability: float = 0.5
    min_factor: float = 0.8
    max_factor: float = 1.2

    def __post_init__(self) -> None:
        _check_probability("speed", self.probability)
        _check_range("speed", "min_factor", self.min_factor, self.max_factor, (0.5, 2.0), "x")


def _coerce(value: Any, default: Any, key: str) -> Any:
    """``value`` as the type of ``default`` (TOML's 5 for 5.0 is fine, "yes" for true is not)."""
    kind = type(default)
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    raise AugmentConfigError(f"{TABLE}.{key}: {value!r} is not {names[kind]}")


def _section(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise AugmentConfigError(f"{TABLE}.{where}: must be a table of settings, not {data!r}")
    known = {f.name: f.default for f in fields(cls)}
    for key in data:
        if key not in known:
            raise AugmentConfigError(f"unknown key '{TABLE}.{where}.{key}' (known: {', '.join(known)})")
    return cls(**{key: _coerce(value, known[key], f"{where}.{key}") for key, value in data.items()})


@dataclass(frozen=True)
class AugmentConfig:
    spec_augment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    speed: SpeedConfig = field(default_factory=SpeedConfig)

    @classmethod
    def off(cls) -> AugmentConfig:
        """Nothing changed (the dev set, a baseline run)."""
        return cls(SpecAugmentConfig(enabled=False), NoiseConfig(enabled=False), SpeedConfig(enabled=False))

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain values, as the TOML ``[augment.*]`` tables and the run's metadata hold them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AugmentConfig:
        """From the ``[augment]`` table; missing keys keep their defaults, an unknown key is an
        error naming it (a typo must not silently train with the default)."""
        sections = {f.name: f.default_factory for f in fields(cls)}
        if not isinstance(data, Mapping):
            raise AugmentConfigError(f"{TABLE}: must be a table of settings, not {data!r}")
        for key in data:
            if key not in sections:
                raise AugmentConfigError(f"unknown key '{TABLE}.{key}' (known: {', '.join(sections)})")
        return cls(**{key: _section(sections[key], value, key) for key, value in data.items()})


@dataclass(frozen=True)
class AugmentKey:
    """What one augmentation of one utterance depends on, and nothing else."""

    seed: int
    epoch: int
    index: int

    def __post_init__(self) -> None:
        if min(self.seed, self.epoch, self.index) < 0:
            raise ValueError(f"seed, epoch and index must be 0 or more, not {self}")

    def rng(self, stream: str) -> np.random.Generator:
        """The Generator of one draw (``speed``, ``snr``, ``noise``, ``spec_augment``) for this key."""
        return np.random.default_rng([self.seed, self.epoch, self.index, _STREAMS[stream]])


def audio_frames(n_samples: int) -> int:
    """Log-mel frames that hold audio (the rest of Whisper's 3000 is padding)."""
    return min(N_FRAMES, -(-n_samples // HOP_LENGTH))


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """``audio`` played ``factor`` times faster (1/factor as long, pitch times factor): resampled
    by soxr from ``factor`` x 16 kHz to 16 kHz."""
    audio = np.asarray(audio, dtype=np.float32)
    if factor == 1.0 or not len(audio):
        return audio
    return soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)


@dataclass(frozen=True)
class AudioDraw:
    """What ``augment_audio`` does to one utterance: None where it leaves that alone."""

    speed: float | None = None  # factor
    snr_db: float | None = None


def draw_audio(n_samples: int, rng_key: AugmentKey, config: AugmentConfig) -> AudioDraw:
    """The speed factor and SNR of one utterance of ``n_samples`` (for the event log and tests)."""
    speed, noise, factor, snr = config.speed, config.noise, None, None
    if speed.enabled and n_samples:
        rng = rng_key.rng("speed")
        if rng.random() < speed.probability:
            slowest = max(speed.min_factor, n_samples / N_SAMPLES)  # stay within Whisper's 30 s
            u = rng.random()
            factor = slowest + u * (speed.max_factor - slowest) if slowest <= speed.max_factor else None
    if noise.enabled and n_samples:
        rng = rng_key.rng("snr")
        if rng.random() < noise.probability:
            snr = float(rng.uniform(noise.min_snr_db, noise.max_snr_db))
    return AudioDraw(factor, snr)


def augment_audio(
    audio: np.ndarray,
    rng_key: AugmentKey,
    config: AugmentConfig,
    noise_source: NoiseSource | None = None,
    exclude: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """The waveform-level augmentations of one utterance (16 kHz float32): speed, then noise.

    ``noise_source`` is needed when noise is on; ``exclude`` is the utterance's own file, kept out
    of its babble. All off returns ``audio`` itself."""
    out = np.asarray(audio, dtype=np.float32)
    if config.noise.enabled and noise_source is None:
        raise ValueError("noise is on: give augment_audio a NoiseSource (NoiseSource.from_config)")
    draw = draw_audio(len(out), rng_key, config)
    if draw.speed is not None:
        out = change_speed(out, draw.speed)
    if draw.snr_db is not None:
        out = add_noise(out, noise_source.draw(len(out), rng_key.rng("noise"), exclude), draw.snr_db)
    return out


def draw_masks(
    n_mels: int, n_frames: int, rng_key: AugmentKey, config: AugmentConfig
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """SpecAugment's (start, width) time masks within ``n_frames`` and frequency masks within
    ``n_mels``; empty when it is off or not drawn (what the Training tab outlines)."""
    spec = config.spec_augment
    if not spec.enabled or n_frames <= 0:
        return [], []
    rng = rng_key.rng("spec_augment")
    if rng.random() >= spec.probability:
        return [], []
    widest = min(spec.max_time_width, int(spec.max_time_fraction * n_frames))
    time, freq = [], []
    for _ in range(spec.time_masks):
        width = int(rng.integers(0, widest + 1))
        time.append((int(rng.integers(0, n_frames - width + 1)), width))
    for _ in range(spec.freq_masks):
        width = int(rng.integers(0, min(spec.max_freq_width, n_mels) + 1))
        freq.append((int(rng.integers(0, n_mels - width + 1)), width))
    return time, freq


def augment_mel(mel: np.ndarray, n_frames: int, rng_key: AugmentKey, config: AugmentConfig) -> np.ndarray:
    """SpecAugment on a Whisper log-mel [n_mels, frames] whose first ``n_frames`` hold audio
    (``audio_frames``); the padding after them is left as it is. Returns a copy when masked."""
    n_frames = min(n_frames, mel.shape[-1])
    time, freq = draw_masks(mel.shape[0], n_frames, rng_key, config)
    if not time and not freq:
        return mel
    out = np.array(mel, dtype=np.float32, copy=True)
    body = out[:, :n_frames]
    # Whisper clamps log10 to max - 8 and scales by 1/4: its floor is the max less 2
    fill = body.mean() if config.spec_augment.fill == "mean" else body.max() - 2.0
    for start, width in time:
        body[:, start : start + width] = fill
    for start, width in freq:
        body[start : start + width, :] = fill
    return out


def preview(
    audio: np.ndarray, config: AugmentConfig, seed: int, noise_source: NoiseSource | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log-mel before, log-mel after, audio after) of one clip of at most 30 s, for the Training
    tab's before/after spectrograms and play buttons; the mels hold only the audio's frames."""
    audio = np.asarray(audio, dtype=np.float32)[:N_SAMPLES]
    key = AugmentKey(seed, 0, 0)
    after_audio = augment_audio(audio, key, config, noise_source)
    before = log_mel(audio)[:, : audio_frames(len(audio))]
    frames = audio_frames(len(after_audio))
    after = augment_mel(log_mel(after_audio)[:, :frames], frames, key, config)
    return before, after, after_audio
