"""Noise for training: a user's recordings of noise, or babble from other clips, mixed at an SNR.

The SNR is measured on the speech's active samples (10 ms frames above -70 dBFS), so the leading
and trailing digital silence of a clip does not make it look quieter than it is and a drawn
5 dB is heard as 5 dB. The noise is scaled on the same samples, so the measured SNR is the drawn
one whatever the noise does elsewhere.

Clips are decoded lazily through engine.audio.decode (any format the app reads) and kept in a
small LRU bounded in bytes: a DataLoader worker holds a few dozen clips, not the dataset.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.audio.decode import MEDIA_SUFFIXES, SUPPORTED, probe, stream_audio
from engine.errors import AudioError, MinutesError

log = logging.getLogger("minutes.training")

FRAME = SAMPLE_RATE // 100  # 10 ms
SILENCE_POWER = 1e-7  # -70 dBFS: below is digital silence or dither, not speech
MAX_CLIP_SECONDS = 120.0  # of a long noise recording only the first 2 minutes are used
BABBLE_POOL = 32  # clips taking part in babble: 32 clips of <= 30 s fit the 64 MB cache
_FOLDER_HINT = "leave augment.noise.folder empty for babble from the training clips"


class NoiseError(MinutesError):
    """No noise can be had from the given folder or clips: the message says what to do."""


def active_mask(audio: np.ndarray) -> np.ndarray:
    """True for the samples of 10 ms frames above -70 dBFS; all True when no frame is."""
    audio = np.asarray(audio, dtype=np.float32)
    n = len(audio)
    padded = np.zeros(-(-n // FRAME) * FRAME, dtype=np.float32)
    padded[:n] = audio
    power = (padded.reshape(-1, FRAME).astype(np.float64) ** 2).mean(axis=1)
    frames = power > SILENCE_POWER
    if not frames.any():
        return np.ones(n, dtype=bool)
    return np.repeat(frames, FRAME)[:n]


def active_power(audio: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean power over the active samples (``mask``, default the audio's own)."""
    audio = np.asarray(audio, dtype=np.float64)
    mask = active_mask(audio) if mask is None else mask
    return float(np.mean(audio[mask] ** 2)) if mask.any() else 0.0


def add_noise(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` (same length) scaled so the SNR over the speech's active samples
    is ``snr_db``. No clipping: the log-mel takes any float, and clipping would change the SNR."""
    speech = np.asarray(speech, dtype=np.float32)
    if len(noise) != len(speech):
        raise ValueError(f"noise has {len(noise)} samples, speech {len(speech)}")
    mask = active_mask(speech)
    p_speech = active_power(speech, mask)
    p_noise = active_power(noise, mask) or active_power(noise, np.ones(len(noise), dtype=bool))
    if p_speech == 0.0 or p_noise == 0.0:
        return speech.copy()
    gain = np.sqrt(p_speech / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (speech + gain * np.asarray(noise, dtype=np.float64)).astype(np.float32)


def _segment(clip: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of ``clip`` from a random offset, looped when the clip is shorter."""
    if len(clip) >= n:
        start = int(rng.integers(0, len(clip) - n + 1))
        return clip[start : start + n]
    start = int(rng.integers(0, len(clip)))
    return clip[(start + np.arange(n)) % len(clip)]


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file())


class NoiseSource:
    """Where the noise comes from: recordings of noise (one per draw) or babble (``babble``
    of the clips summed, each at the same level, so no one voice stands out of the crowd)."""

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        babble: tuple[int, int] | None = None,
        cache_mb: float = 64.0,
        where: str = "",
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.babble = babble
        self.cache_bytes = int(cache_mb * 1e6)
        self.where = where or ("the babble clips" if babble else "the noise files")
        self.bad: set[Path] = set()
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()
        if not self.paths and babble:
            raise NoiseError("no clips to make babble from: give a manifest with audio, or set augment.noise.folder")
        if not self.paths:
            raise NoiseError(f"no noise files given: give a folder of noise recordings, or {_FOLDER_HINT}")

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], cache_mb: float = 64.0) -> NoiseSource:
        """Every audio file below ``folder``; unreadable ones are skipped with a warning."""
        folder = Path(folder)
        if not folder.is_dir():
            raise NoiseError(
                f"noise folder not found: '{folder}': give a folder of noise recordings, or {_FOLDER_HINT}"
            )
        files = _audio_files(folder)
        if not files:
            raise NoiseError(f"noise folder '{folder}' holds no audio ({SUPPORTED}): add noise recordings there")
        source = cls(files, None, cache_mb, where=f"noise folder '{folder}'")
        for path in files:
            try:
                probe(path)
            except AudioError as e:
                source._skip(path, str(e))
        return source

    @classmethod
    def from_clips(
        cls,
        clips: Sequence[str | os.PathLike[str]],
        speakers: tuple[int, int] = (3, 6),
        cache_mb: float = 64.0,
        pool: int = BABBLE_POOL,
    ) -> NoiseSource:
        """Babble of ``speakers`` (low, high) voices from ``clips``: the training manifest's audio,
        or a folder of voices such as speaker_pool. At most ``pool`` of them (a fixed choice, the
        same in every worker) take part, so they stay decoded in the cache: a babble that decodes
        its 3-6 clips costs ~55 ms a 10 s utterance, a cached one ~2.5 ms."""
        clips = [Path(c) for c in clips]
        if len(clips) > pool:
            chosen = np.random.default_rng(len(clips)).choice(len(clips), pool, replace=False)
            clips = [clips[i] for i in sorted(chosen)]
        return cls(clips, speakers, cache_mb)

    @classmethod
    def from_config(
        cls, config: Any, clips: Sequence[str | os.PathLike[str]] = (), cache_mb: float = 64.0
    ) -> NoiseSource:
        """The source a NoiseConfig names: its ``folder``, or else babble from ``clips``."""
        if config.folder:
            return cls.from_folder(config.folder, cache_mb)
        return cls.from_clips(clips, (config.min_babble_speakers, config.max_babble_speakers), cache_mb)

    def __getstate__(self) -> dict[str, Any]:  # DataLoader workers start with an empty cache
        return {**self.__dict__, "_cache": OrderedDict()}

    def _skip(self, path: Path, why: str) -> None:
        log.warning("noise: skipping %s: %s", path, why)
        self.bad.add(path)
        if len(self.bad) == len(self.paths):
            raise NoiseError(
                f"none of the {len(self.paths)} audio files of {self.where} can be used as noise "
                f"(last: {path.name}: {why}): replace them with readable recordings ({SUPPORTED}), or {_FOLDER_HINT}"
            )

    def _load(self, path: Path) -> np.ndarray | None:
        """The clip (its first 2 minutes) at unit active power, from the cache when there; None if unusable."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        blocks, have = [], 0
        try:
            for block in stream_audio(path, block_seconds=30.0):
                blocks.append(block)
                have += len(block)
                if have >= MAX_CLIP_SECONDS * SAMPLE_RATE:
                    break
        except AudioError as e:
            self._skip(path, str(e))
            return None
        clip = np.concatenate(blocks)[: int(MAX_CLIP_SECONDS * SAMPLE_RATE)]
        power = active_power(clip)
        if power <= SILENCE_POWER:
            self._skip(path, "it is silent")
            return None
        clip = (clip / np.sqrt(power)).astype(np.float32)  # unit level: babble voices are equally loud
        self._cache[path] = clip
        total = sum(c.nbytes for c in self._cache.values())
        while total > self.cache_bytes and len(self._cache) > 1:
            total -= self._cache.popitem(last=False)[1].nbytes
        return clip

    def _pick(self, rng: np.random.Generator, taken: set[Path]) -> tuple[Path, np.ndarray] | None:
        """A usable clip not in ``taken``, drawn from the whole list (a bad one is redrawn, so the
        draws do not depend on which bad files this process has met yet)."""
        while len(self.bad | taken) < len(self.paths):
            path = self.paths[int(rng.integers(0, len(self.paths)))]
            if path in self.bad or path in taken:
                continue
            clip = self._load(path)
            if clip is not None:
                return path, clip
        return None

    def draw(
        self, n_samples: int, rng: np.random.Generator, exclude: str | os.PathLike[str] | None = None
    ) -> np.ndarray:
        """``n_samples`` of noise; ``exclude`` (the clip being augmented) never babbles along."""
        taken = {Path(exclude)} if exclude is not None and Path(exclude) in self.paths else set()
        if self.babble is None:
            picked = self._pick(rng, taken)
            if picked is None:
                raise NoiseError(f"no usable noise in {self.where}: {_FOLDER_HINT}")
            return _segment(picked[1], n_samples, rng).astype(np.float32)
        count = int(rng.integers(self.babble[0], self.babble[1] + 1))
        out, voices = np.zeros(n_samples, dtype=np.float64), 0
        for _ in range(count):
            picked = self._pick(rng, taken)
            if picked is None:
                break  # fewer clips than voices: babble of those there are
            taken.add(picked[0])
            out += _segment(picked[1], n_samples, rng)
            voices += 1
        if not voices:
            raise NoiseError(f"no clip other than the one being augmented can babble in {self.where}: give more clips")
        return out.astype(np.float32)
