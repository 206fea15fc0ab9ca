"""Crash-safe session recording: every captured sample on disk within a second.

Why: a meeting cannot be repeated. The recorder appends 16-bit PCM to ``audio.wav`` in the
session folder as blocks arrive and hands the bytes to the operating system at least once
a second (``flush``; ``fsync`` too, so a power cut costs no more), so a killed process loses
at most the last second. After every block the header's two sizes (RIFF and data) are
rewritten too, data first and sizes second, so the file on disk is a valid WAV at every
moment: after a crash any player, editor or ``soundfile`` reads it as it is. A header can
still be stale by one block (killed between the two writes), or by more after a power cut or
from an older version that fixed the sizes only at a clean stop; :func:`recover` therefore
rewrites the header from the file's length, not from the sizes it finds.

A session folder (under ``<data dir>/sessions/``) holds:
  * ``session.json`` — state (``recording`` → ``finished`` or ``recovered``), start time,
    device, language, process id, and ``pauses``: one ``{"audio": seconds recorded at the
    pause, "wall_paused": unix time, "wall_resumed": unix time}`` per pause (the recording has
    no paused time; ``wall_resumed`` is null while paused, or after a crash while paused; a stop
    while paused sets it to the stop time), so audio time maps back to wall time
    (``engine.live.wall_time.audio_to_wall``);
  * ``audio.wav`` — the recording;
  * ``.lock`` — held open and locked while the session runs, so another start can tell a
    live session from one whose process died (:func:`unfinished_sessions`).
Transcript files are written beside them when the session stops or is recovered.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import replace_atomically
from engine.audio import SAMPLE_RATE
from engine.errors import MinutesError
from engine.paths import data_dir

HEADER_BYTES = 44
AUDIO_NAME = "audio.wav"
META_NAME = "session.json"
LOCK_NAME = ".lock"


def sessions_dir() -> Path:
    return data_dir() / "sessions"


RIFF_SIZE_AT = 4  # byte offset of the RIFF chunk size (file length - 8)
DATA_SIZE_AT = 40  # byte offset of the data chunk size (sample bytes)


def _u32(n: int) -> bytes:
    """A little-endian size field; past 4 GiB (37 h of audio) it stays at the maximum instead of
    raising, so a very long meeting keeps recording (``recover`` counts from the length anyway)."""
    return struct.pack("<I", min(n, 0xFFFFFFFF))


def wav_header(n_samples: int, rate: int = SAMPLE_RATE) -> bytes:
    """A canonical 44-byte header for mono 16-bit PCM."""
    data = n_samples * 2
    return (
        b"RIFF"
        + _u32(36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + _u32(data)
    )


def _lock(f) -> bool:
    """Lock an open file exclusively without waiting; False if another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(f) -> None:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    except OSError:
        pass


def _write_json(path: Path, data: dict) -> None:
    replace_atomically(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"), fsync=False)


class Recorder:
    """Appends 16 kHz mono audio to a new session folder. Thread-safe ``write``."""

    FLUSH_SECONDS = 0.5  # at most this long between hand-overs to the OS (the promise is 1 s)

    def __init__(self, folder: Path | None = None, info: dict | None = None):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.folder = Path(folder) if folder else sessions_dir() / f"{stamp}-{secrets.token_hex(2)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lockfile = open(self.folder / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the session
            if not _lock(self._lockfile):
                raise MinutesError(f"Session folder '{self.folder}' is in use by another running session.")
            self.path = self.folder / AUDIO_NAME
            self._f = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            self._f.write(wav_header(0))
        except OSError as e:
            raise MinutesError(f"Cannot create the session folder '{self.folder}': {e.strerror or e}.") from e
        self.meta = {
            "state": "recording",
            "started": time.time(),
            "pid": os.getpid(),
            "sample_rate": SAMPLE_RATE,
            **(info or {}),
        }
        _write_json(self.folder / META_NAME, self.meta)
        self._meta_lock = threading.RLock()
        self.samples = 0
        self._last_sync = time.monotonic()
        self._lock = threading.Lock()
        self._closed = False
        self.error: str | None = None

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def write(self, audio: np.ndarray) -> None:
        """Append float samples in [-1, 1]; on disk (OS buffers) before this returns."""
        pcm = (np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767.0).round().astype("<i2")
        with self._lock:
            if self._closed:
                return
            try:
                self._f.seek(HEADER_BYTES + 2 * self.samples)  # after a failed write: over its remains
                self._f.write(pcm.tobytes())
                self._f.flush()  # in the OS now: a killed process loses nothing of it
                self.samples += pcm.size
                self._write_sizes()  # only now: the header never counts samples the OS lacks
                self._f.flush()
                if time.monotonic() - self._last_sync >= self.FLUSH_SECONDS:
                    os.fsync(self._f.fileno())  # on the disk: a power cut loses at most this long
                    self._last_sync = time.monotonic()
            except OSError as e:
                # A full disk must not end the meeting's transcript: say so once, keep going.
                if self.error is None:
                    self.error = f"Cannot write the recording '{self.path}': {e.strerror or e}."
                raise MinutesError(self.error) from e

    def _write_sizes(self) -> None:
        """Make the header's sizes match the samples written, so the file stays a valid WAV that
        other programs read in full even if this process dies now; then back to the end.

        Two 4-byte writes per block: cheap next to the block itself."""
        data = 2 * self.samples
        self._f.seek(RIFF_SIZE_AT)
        self._f.write(_u32(36 + data))
        self._f.seek(DATA_SIZE_AT)
        self._f.write(_u32(data))
        self._f.seek(HEADER_BYTES + data)

    def read(self, start: float, end: float) -> np.ndarray:
        """Samples [start, end) seconds back from disk (speaker labels need an utterance's audio;
        keeping it in memory would grow with the meeting)."""
        a = max(0, int(start * SAMPLE_RATE))
        b = int(min(self.samples, end * SAMPLE_RATE))  # end may be inf: to the last sample written
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        with open(self.path, "rb") as f:
            f.seek(HEADER_BYTES + 2 * a)
            raw = f.read(2 * (b - a))
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0

    @property
    def paused(self) -> bool:
        pauses = self.meta.get("pauses")
        return bool(pauses) and pauses[-1]["wall_resumed"] is None

    def pause(self, wall: float | None = None) -> None:
        """Note in session.json that recording pauses now, after the samples written so far (the
        caller stops writing; nothing marks the pause in the audio)."""
        with self._meta_lock:
            if self.paused:
                return
            mark = {"audio": round(self.seconds, 3), "wall_paused": wall or time.time(), "wall_resumed": None}
            self.meta.setdefault("pauses", []).append(mark)
            self.update()

    def resume(self, wall: float | None = None) -> None:
        """Note in session.json that recording goes on now (the end of the open pause)."""
        with self._meta_lock:
            if not self.paused:
                return
            self.meta["pauses"][-1]["wall_resumed"] = wall or time.time()
            self.update()

    def update(self, **info) -> None:
        """Add facts to session.json (e.g. the detected language). Thread-safe."""
        with self._meta_lock:
            self.meta.update(info)
            _write_json(self.folder / META_NAME, self.meta)

    def close(self, state: str = "finished") -> Path:
        """Fix the header, mark the session ``state`` and release it; returns the WAV path."""
        with self._lock:
            if self._closed:
                return self.path
            self._closed = True
            self._f.flush()
            self._f.seek(0)
            self._f.write(wav_header(self.samples))
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
        stopped = time.time()
        with self._meta_lock:
            if self.paused:  # stopped while paused: the pause ends with the session
                self.meta["pauses"][-1]["wall_resumed"] = stopped
            self.update(state=state, stopped=stopped, duration=round(self.seconds, 3))
        _unlock(self._lockfile)
        self._lockfile.close()
        return self.path


@dataclass
class SessionInfo:
    folder: Path
    meta: dict
    seconds: float  # audio on disk

    @property
    def started(self) -> str:
        t = self.meta.get("started")
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "?"


def _audio_seconds(folder: Path) -> float:
    try:
        size = (folder / AUDIO_NAME).stat().st_size
    except OSError:
        return 0.0
    return max(0, size - HEADER_BYTES) // 2 / SAMPLE_RATE


def unfinished_sessions(root: Path | None = None) -> list[SessionInfo]:
    """Sessions still marked ``recording`` whose process is gone (their lock is free), oldest first."""
    root = root or sessions_dir()
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("state") != "recording":
            continue
        try:
            with open(folder / LOCK_NAME, "a+b") as f:
                if not _lock(f):
                    continue  # a running session holds it
                _unlock(f)
        except OSError:
            continue
        found.append(SessionInfo(folder, meta, _audio_seconds(folder)))
    return found


def set_state(folder: Path, state: str) -> None:
    """Mark a session folder ``state`` in its session.json (e.g. ``recording`` again after a
    cancelled recovery, so that it is offered again)."""
    path = Path(folder) / META_NAME
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    meta["state"] = state
    try:
        _write_json(path, meta)
    except OSError as e:
        raise MinutesError(f"Cannot update '{path}': {e.strerror or e}.") from e


def recover(folder: Path) -> Path:
    """Make an interrupted session's recording a valid WAV again (all samples kept); returns its path.

    Marks the session ``recovered``; transcribing it is the caller's job (the file engine).
    """
    folder = Path(folder)
    path = folder / AUDIO_NAME
    try:
        size = path.stat().st_size
        with open(folder / LOCK_NAME, "a+b") as lock:
            if not _lock(lock):
                raise MinutesError(f"Session '{folder.name}' is still running: stop it before recovering it.")
            n = max(0, size - HEADER_BYTES) // 2
            with open(path, "r+b") as f:
                if size < HEADER_BYTES:
                    f.write(wav_header(0))
                f.truncate(HEADER_BYTES + 2 * n)  # a half-written last sample goes
                f.seek(0)
                f.write(wav_header(n))
                f.flush()
                os.fsync(f.fileno())
            meta_path = folder / META_NAME
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            meta.update(state="recovered", recovered=time.time(), duration=round(n / SAMPLE_RATE, 3))
            _write_json(meta_path, meta)
            _unlock(lock)
    except FileNotFoundError as e:
        raise MinutesError(f"'{folder}' is not a session folder (no {AUDIO_NAME}).") from e
    except OSError as e:
        raise MinutesError(f"Cannot recover '{folder}': {e.strerror or e}.") from e
    return path
