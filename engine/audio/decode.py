"""Decode any audio or video file to 16 kHz mono float32, block by block.

Transcription of a two-hour meeting must not hold the whole recording in memory, so the
core API is a generator of fixed-length blocks (:func:`stream_audio`). WAV/FLAC/OGG (and
the other formats libsndfile reads natively) go through soundfile; everything else goes
through PyAV (FFmpeg). Both paths downmix by averaging the channels and resample with a
streaming soxr resampler, so block boundaries are seamless and both give the same
result for the same signal.

Every problem with the input is raised as :class:`~engine.errors.AudioError` with a
one-line message for the user; raw soundfile/FFmpeg exceptions never escape.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from engine.audio import SAMPLE_RATE
from engine.errors import AudioError

log = logging.getLogger(__name__)

SUPPORTED = "WAV, FLAC, OGG, MP3, M4A, MP4, MKV, WEBM"

# libsndfile formats read through soundfile; anything else (notably MP3, whose
# libsndfile support is newer and less tolerant) goes through FFmpeg.
_SOUNDFILE_FORMATS = frozenset({"WAV", "WAVEX", "FLAC", "OGG", "AIFF", "AU", "CAF", "W64", "RF64"})

# Extensions that are always FFmpeg's job: asking libsndfile first would only make its
# MP3 reader print warnings about files it half-understands.
_FFMPEG_AUDIO_SUFFIXES = {".mp3", ".m4a", ".m4b", ".mka", ".aac", ".wma", ".amr", ".ac3"}
_VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".flv"}
_FFMPEG_SUFFIXES = frozenset(_FFMPEG_AUDIO_SUFFIXES | _VIDEO_SUFFIXES)
# Media extensions: a file named like this that FFmpeg cannot open is damaged, not "not audio".
_MEDIA_SUFFIXES = _FFMPEG_SUFFIXES | frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff"})
MEDIA_SUFFIXES = _MEDIA_SUFFIXES  # what a dropped folder is searched for

# FFmpeg demuxers that open still images or text, which are "video" to FFmpeg but
# not something a user would call a recording.
_NON_MEDIA_DEMUXERS = frozenset({"image2", "tty", "gif", "apng", "webp", "ico", "bmp", "svg"})

# Frames read from soundfile per call: small enough to keep memory flat, big enough
# that Python overhead is negligible.
_SF_READ_FRAMES = 1 << 16

# A damaged stream may have a few undecodable packets; give up after this many in a row.
_MAX_BAD_PACKETS = 50

_INT_SCALE = {
    np.dtype(np.uint8): None,  # offset binary, handled separately
    np.dtype(np.int16): 1.0 / 32768.0,
    np.dtype(np.int32): 1.0 / 2147483648.0,
    np.dtype(np.int64): 1.0 / 9223372036854775808.0,
}


@dataclass
class AudioMeta:
    """What a file holds, as the user knows it (original rate and channels)."""

    path: str
    duration: float
    sample_rate: int
    channels: int


# ----------------------------------------------------------------------------- checks


def _name(path: str | os.PathLike[str]) -> str:
    return Path(path).name or str(path)


def _check_file(path: str | os.PathLike[str]) -> Path:
    """Fail early, with a clear message, on inputs that are not a readable file."""
    p = Path(path)
    try:
        if not p.exists():
            raise AudioError(f"File not found: {p} — check the path.")
        if p.is_dir():
            raise AudioError(f"'{p}' is a folder, not an audio file — choose a file inside it.")
        size = p.stat().st_size
    except OSError as exc:
        why = exc.strerror or exc
        raise AudioError(f"Cannot open '{p}': {why} — check the path and permissions.") from None
    if size == 0:
        raise AudioError(f"'{p.name}' is empty (0 bytes) — choose a file that contains a recording.")
    if not os.access(p, os.R_OK):
        raise AudioError(f"Cannot open '{p.name}': permission denied — check the file's permissions.")
    return p


def _not_audio(path: Path) -> AudioError:
    what = f"Cannot read '{path.name}' as audio: it is not an audio or video file"
    return AudioError(f"{what} (supported: {SUPPORTED}).")


def _no_samples(path: Path) -> AudioError:
    return AudioError(f"'{path.name}' contains no audio (0 seconds) — choose a file with a recording in it.")


def _damaged(path: Path, detail: str) -> AudioError:
    detail = " ".join(str(detail).split())  # keep the message on one line
    return AudioError(
        f"Cannot decode '{path.name}': the file is damaged or incomplete ({detail}) — "
        "try re-exporting or re-downloading it."
    )


# ----------------------------------------------------------------------------- backends


def _open_soundfile(path: Path):  # -> soundfile.SoundFile | None
    """Open with libsndfile if it knows the format; None means "try FFmpeg instead"."""
    import soundfile as sf

    if path.suffix.lower() in _FFMPEG_SUFFIXES:
        return None
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None
    if f.format not in _SOUNDFILE_FORMATS:
        f.close()
        return None
    return f


def _open_av(path: Path):  # -> tuple[av.container.InputContainer, av.audio.stream.AudioStream]
    """Open with FFmpeg and pick the first audio stream, or say why there is none."""
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeError) as exc:
        if path.suffix.lower() in _MEDIA_SUFFIXES:
            raise _damaged(path, getattr(exc, "strerror", None) or str(exc)) from None
        raise _not_audio(path) from None
    if not container.streams.audio:
        demuxer = container.format.name
        has_video = bool(container.streams.video)
        container.close()
        if not has_video or demuxer in _NON_MEDIA_DEMUXERS or demuxer.endswith("_pipe"):
            raise _not_audio(path)
        raise AudioError(f"'{path.name}' has no audio track — choose a file that contains sound.")
    return container, container.streams.audio[0]


def _av_stream_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        import av

        return container.duration / av.time_base
    return None


def probe(path: str | os.PathLike[str]) -> AudioMeta:
    """Read duration, rate and channels without decoding (except when the container hides them).

    Raises AudioError for anything that is not playable audio, so callers can validate a
    file before starting a long job.
    """
    p = _check_file(path)
    f = _open_soundfile(p)
    if f is not None:
        with f:
            meta = AudioMeta(str(p), f.frames / f.samplerate, int(f.samplerate), int(f.channels))
        if f.frames <= 0:
            raise _no_samples(p)
        return meta
    container, stream = _open_av(p)
    try:
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 0)
        duration = _av_stream_duration(container, stream)
    finally:
        container.close()
    if duration is None or rate <= 0 or channels <= 0:
        # The container does not say (e.g. raw ADTS/AAC): decode once to find out.
        seconds = 0.0
        for planar, rate in _av_native_blocks(p):
            seconds += planar.shape[1] / rate
            channels = planar.shape[0]
        duration = seconds
    if duration <= 0:
        raise _no_samples(p)
    return AudioMeta(str(p), duration, rate, channels)


def _to_float_planar(arr: np.ndarray, planar: bool, channels: int) -> np.ndarray:
    """PyAV frame array -> float32 (channels, samples)."""
    if not planar:
        arr = arr.reshape(-1, channels).T
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    scale = _INT_SCALE.get(arr.dtype)
    if scale is not None:
        return arr.astype(np.float32) * np.float32(scale)
    return arr.astype(np.float32, copy=False)


def _av_native_blocks(path: Path) -> Iterator[tuple[np.ndarray, int]]:
    """Decoded audio at its native rate as (float32 (channels, samples), rate) pairs.

    Decodes packet by packet so that a damaged packet is skipped rather than ending the
    file; a truncated file yields what could be decoded.
    """
    import av

    container, stream = _open_av(path)
    decoded = 0
    bad_in_a_row = 0
    last_error = ""
    try:
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:  # unreadable container data: treat as end of file
                last_error = str(exc.strerror or exc)
                log.warning("%s: stopped reading at a damaged spot (%s)", path.name, last_error)
                break
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:
                last_error = str(exc.strerror or exc)
                bad_in_a_row += 1
                if bad_in_a_row > _MAX_BAD_PACKETS:
                    log.warning("%s: too many undecodable packets, stopping (%s)", path.name, last_error)
                    break
                continue
            bad_in_a_row = 0
            for frame in frames:
                if frame.samples == 0:
                    continue
                channels = len(frame.layout.channels) or 1
                arr = _to_float_planar(frame.to_ndarray(), frame.format.is_planar, channels)
                decoded += arr.shape[1]
                yield arr, int(frame.sample_rate)
    finally:
        container.close()
    if decoded == 0 and last_error:
        raise _damaged(path, last_error)


def _sf_native_blocks(f, path: Path) -> Iterator[tuple[np.ndarray, int]]:
    """soundfile blocks as (float32 (channels, samples), rate); stops at a damaged spot."""
    import soundfile as sf

    decoded = 0
    rate = int(f.samplerate)
    with f:
        while True:
            try:
                data = f.read(_SF_READ_FRAMES, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                if decoded == 0:
                    raise _damaged(path, str(exc)) from None
                log.warning("%s: stopped reading at a damaged spot (%s)", path.name, exc)
                return
            if data.shape[0] == 0:
                return
            decoded += data.shape[0]
            yield data.T, rate


# ----------------------------------------------------------------------------- streaming


class _Rechunker:
    """Collects variable-size arrays and hands out fixed-size blocks."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.parts: list[np.ndarray] = []
        self.count = 0

    def push(self, x: np.ndarray) -> Iterator[np.ndarray]:
        if x.size:
            self.parts.append(x)
            self.count += x.size
        while self.count >= self.size:
            buf = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0]
            yield np.ascontiguousarray(buf[: self.size], dtype=np.float32)
            rest = buf[self.size :]
            self.parts = [rest] if rest.size else []
            self.count = rest.size

    def flush(self) -> Iterator[np.ndarray]:
        if self.count:
            yield np.ascontiguousarray(np.concatenate(self.parts), dtype=np.float32)
        self.parts, self.count = [], 0


class _ToMono16k:
    """Downmix by mean and resample to 16 kHz with one continuous soxr stream.

    Re-creates the resampler if the rate changes mid-stream (some broadcasts do).
    """

    def __init__(self) -> None:
        self.rate = 0
        self.resampler: soxr.ResampleStream | None = None

    def push(self, planar: np.ndarray, rate: int) -> Iterator[np.ndarray]:
        mono = planar.mean(axis=0, dtype=np.float32) if planar.shape[0] > 1 else planar[0]
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if rate != self.rate:
            yield from self.flush()
            self.rate = rate
            self.resampler = (
                None
                if rate == SAMPLE_RATE
                else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
            )
        if self.resampler is None:
            yield mono
        else:
            yield self.resampler.resample_chunk(mono, last=False)

    def flush(self) -> Iterator[np.ndarray]:
        if self.resampler is not None:
            yield self.resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            self.resampler = None


def stream_audio(path: str | os.PathLike[str], block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield consecutive float32 mono 16 kHz blocks of ``block_seconds`` (the last may be shorter).

    Decodes incrementally, so memory stays flat however long the file. The file is
    checked before the first block is yielded; if nothing at all can be decoded an
    AudioError is raised, while a file that breaks part-way yields what was readable.
    """
    if block_seconds <= 0:
        raise ValueError("block_seconds must be positive")
    p = _check_file(path)
    block = _Rechunker(max(1, round(block_seconds * SAMPLE_RATE)))
    conv = _ToMono16k()
    produced = 0

    f = _open_soundfile(p)
    if f is not None and f.frames <= 0:
        f.close()
        raise _no_samples(p)
    native = _sf_native_blocks(f, p) if f is not None else _av_native_blocks(p)
    for planar, rate in native:
        for out in conv.push(planar, rate):
            for b in block.push(out):
                produced += b.size
                yield b
    for out in conv.flush():
        for b in block.push(out):
            produced += b.size
            yield b
    for b in block.flush():
        produced += b.size
        yield b
    if produced == 0:
        raise _no_samples(p)


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """The whole file as float32 mono 16 kHz; for short files and tests (long files: stream)."""
    blocks = list(stream_audio(path))
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
