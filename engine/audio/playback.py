"""Audio playback for the transcript editor, without Qt.

:class:`Player` plays 16 kHz mono float32 audio (what :func:`engine.audio.decode.load_audio`
gives) from any position at 0.5–2× speed and tells where it is. Speed keeps the pitch: above or
below 1× the audio is time-stretched with WSOLA (overlap-add of 32 ms Hann frames, each one
placed where it best continues the previous one, searched ±10 ms by cross-correlation), so a
voice at 1.5× sounds faster, not higher. At 1× the samples are copied as they are. The result
is converted to the output device's own rate with a streaming soxr resampler.

Output goes through a ``sounddevice`` OutputStream. Where there is no output device (headless
machines, CI), no PortAudio library, or ``MINUTES_AUDIO_OUTPUT=none`` is set, the player is
*silent*: it plays nothing but its clock advances in real time at the chosen speed, loops and
stops at the end exactly as the audible one, so a window and its tests behave the same.

The player is thread-safe: a GUI polls :attr:`Player.position` (e.g. 30 times a second) while
PortAudio's thread pulls samples; both take one short lock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from engine.audio import SAMPLE_RATE

MIN_SPEED = 0.5
MAX_SPEED = 2.0

log = logging.getLogger(__name__)

# WSOLA parameters at 16 kHz: 32 ms frames, 50% overlap on output, ±10 ms search.
_FRAME = 512
_HOP = _FRAME // 2
_TOLERANCE = 160
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_FRAME) / _FRAME)).astype(np.float32)  # periodic Hann


def clamp_speed(speed: float) -> float:
    return float(min(MAX_SPEED, max(MIN_SPEED, speed)))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Half the memory of float32 (a 2-hour meeting: 230 MB instead of 460) at 16-bit quality."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def _read(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    """float32 samples[start:stop] of a float32 or int16 signal."""
    x = samples[max(0, start) : max(0, stop)]
    if x.dtype == np.int16:
        return x.astype(np.float32) * np.float32(1 / 32768)
    return x


class TimeStretcher:
    """WSOLA time stretch of a fixed signal, read forward from a position, hop by hop.

    ``next_hop()`` returns the next ``_HOP`` output samples and the input position (in
    samples) they start from; each hop advances the input by ``_HOP * speed``. Pitch is kept
    because every output sample comes from an unstretched input frame.
    """

    def __init__(self, samples: np.ndarray, position: float = 0.0) -> None:
        self.samples = samples
        self.reset(position)

    def reset(self, position: float) -> None:
        self.position = float(position)  # nominal input position of the next frame
        self._prev: int | None = None  # start of the previous frame actually copied
        self._ola = np.zeros(_FRAME, dtype=np.float32)

    def _frame(self, start: int) -> np.ndarray:
        x = _read(self.samples, start, start + _FRAME)
        if len(x) < _FRAME:
            x = np.concatenate([x, np.zeros(_FRAME - len(x), dtype=np.float32)])
        return x

    def next_hop(self, speed: float) -> tuple[np.ndarray, float]:
        n = len(self.samples)
        nominal = int(round(self.position))
        start = nominal
        if self._prev is not None and speed != 1.0:
            natural = self._prev + _HOP  # where the previous frame would have gone on
            lo = max(0, nominal - _TOLERANCE)
            hi = min(n - _FRAME, nominal + _TOLERANCE)
            if hi > lo and natural + _FRAME <= n:
                template = _read(self.samples, natural, natural + _FRAME)
                region = _read(self.samples, lo, hi + _FRAME)
                score = np.correlate(region, template, mode="valid")
                start = lo + int(np.argmax(score))
        elif self._prev is not None:
            start = self._prev + _HOP  # 1×: frames tile the input exactly
        self._ola += self._frame(start) * _WINDOW
        out = self._ola[:_HOP].copy()
        self._ola = np.concatenate([self._ola[_HOP:], np.zeros(_HOP, dtype=np.float32)])
        tag = self.position
        self._prev = start
        self.position += _HOP * speed
        return out, tag


def stretch(samples: np.ndarray, speed: float, start: float = 0.0) -> np.ndarray:
    """The whole of ``samples`` from ``start`` (s) played at ``speed``: for tests and checks."""
    ts = TimeStretcher(np.asarray(samples, dtype=np.float32), start * SAMPLE_RATE)
    out = []
    while ts.position < len(samples):
        out.append(ts.next_hop(speed)[0])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def _sounddevice():
    """sounddevice, or None with the reason there is no output."""
    if os.environ.get("MINUTES_AUDIO_OUTPUT", "").lower() in ("none", "silent", "0", "off"):
        return None, "audio output turned off (MINUTES_AUDIO_OUTPUT)"
    try:
        import sounddevice
    except (OSError, ImportError) as e:
        return None, f"no audio library ({e})"
    try:
        sounddevice.query_devices(kind="output")
    except Exception as e:  # PortAudioError, ValueError: no default output device
        return None, f"no audio output device ({e})"
    return sounddevice, None


class Player:
    """Plays one recording; see the module's docstring.

    ``output=False`` makes a silent player from the start. Without a device the player turns
    silent on its own, when it first needs one, and says why in :attr:`silent_reason`.
    """

    def __init__(self, output: bool = True, device: int | str | None = None) -> None:
        self._lock = threading.RLock()
        self._samples = np.zeros(0, dtype=np.float32)
        self._duration = 0.0
        self._speed = 1.0
        self._loop: tuple[float, float] | None = None
        self._playing = False
        self._device = device
        self._silent_reason: str | None = None if output else "audio output turned off"
        self._sd = None
        self._stream = None
        self._rate = SAMPLE_RATE
        # Silent clock: position = anchor + (now - anchor_time) * speed while playing.
        self._anchor = 0.0
        self._anchor_time = 0.0
        # Audible: what PortAudio's thread has consumed, and what is queued for it.
        self._stretcher = TimeStretcher(self._samples)
        self._fifo: deque[tuple[np.ndarray, float, float]] = deque()  # (samples, input pos, input per sample)
        self._fifo_offset = 0
        self._consumed = 0.0
        self._resampler = None
        self._ended = False

    # ------------------------------------------------------------------ set-up

    def load(self, samples: np.ndarray | None, duration: float | None = None) -> None:
        """Play these samples (16 kHz mono, float32 or int16 from :func:`to_int16`); None: no
        audio (a clock over ``duration`` s)."""
        with self._lock:
            self._stop_stream()
            if samples is None:
                self._samples = np.zeros(0, np.float32)
            elif samples.dtype == np.int16:
                self._samples = np.ascontiguousarray(samples)
            else:
                self._samples = np.ascontiguousarray(samples, np.float32)
            self._duration = float(duration) if duration is not None else len(self._samples) / SAMPLE_RATE
            self._playing = False
            self._set_position(0.0)

    def load_file(self, path: str | os.PathLike[str]) -> None:
        """Decode ``path`` and load it (blocking: call it off the GUI thread, or use load())."""
        from engine.audio.decode import load_audio

        self.load(to_int16(load_audio(Path(path))))

    def close(self) -> None:
        with self._lock:
            self._playing = False
            self._stop_stream()
            if self._stream is not None:
                try:
                    self._stream.close()
                except Exception:  # a device that vanished
                    log.debug("closing the output stream failed", exc_info=True)
                self._stream = None

    # ------------------------------------------------------------------ state

    @property
    def duration(self) -> float:
        return self._duration

    @property
    def has_audio(self) -> bool:
        return len(self._samples) > 0

    @property
    def silent(self) -> bool:
        """True when nothing is heard (no device, no library, or turned off)."""
        if self._silent_reason is None and self._sd is None:
            self._probe()
        return self._silent_reason is not None

    @property
    def silent_reason(self) -> str | None:
        return self._silent_reason if self.silent else None

    @property
    def playing(self) -> bool:
        with self._lock:
            self._tick()
            return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        with self._lock:
            pos = self._position()
            self._speed = clamp_speed(speed)
            if self._silent_reason is not None:
                self._anchor, self._anchor_time = pos, time.monotonic()

    @property
    def loop(self) -> tuple[float, float] | None:
        return self._loop

    def set_loop(self, start: float | None, end: float | None = None) -> None:
        """Repeat [start, end) while playing; ``set_loop(None)`` ends the loop."""
        with self._lock:
            if start is None or end is None or end - start < 0.05:
                self._loop = None
            else:
                self._loop = (max(0.0, float(start)), min(float(end), self._duration or float(end)))

    @property
    def position(self) -> float:
        """Seconds from the start of the audio that are being heard now."""
        with self._lock:
            self._tick()
            return self._position()

    # ------------------------------------------------------------------ control

    def play(self) -> None:
        with self._lock:
            if self._playing:
                return
            pos = self._position()
            if self._duration <= 0:
                return
            if pos >= self._duration - 1e-3:
                pos = self._loop[0] if self._loop else 0.0  # play at the end starts again
            self._playing = True
            self._set_position(pos)
            if not self.silent and self.has_audio:
                self._start_stream()

    def pause(self) -> None:
        with self._lock:
            if not self._playing:
                return
            pos = self._position()
            self._playing = False
            self._stop_stream()
            self._set_position(pos)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._set_position(min(max(0.0, float(seconds)), self._duration))

    # ------------------------------------------------------------------ inside

    def _probe(self) -> None:
        sd, reason = _sounddevice()
        if sd is None:
            self._silent_reason = reason
            log.info("audio playback is silent: %s", reason)
        else:
            self._sd = sd

    def _position(self) -> float:
        if self._silent_reason is not None or not self.has_audio:
            if self._playing:
                return self._anchor + (time.monotonic() - self._anchor_time) * self._speed
            return self._anchor
        if not self._playing:
            return self._anchor
        pos = self._consumed
        if self._stream is not None:
            try:
                pos -= float(self._stream.latency) * self._speed  # still in the device's buffer
            except Exception:
                pass
        return max(0.0, pos)

    def _set_position(self, pos: float) -> None:
        self._anchor, self._anchor_time = pos, time.monotonic()
        self._consumed = pos
        self._ended = False
        self._fifo.clear()
        self._fifo_offset = 0
        self._stretcher = TimeStretcher(self._samples, pos * SAMPLE_RATE)
        self._resampler = None

    def _tick(self) -> None:
        """Loop and end of audio for the silent clock (the audible one does this as it reads)."""
        if not self._playing:
            return
        audible = self._silent_reason is None and self.has_audio
        if audible:
            if self._ended:
                self._playing = False
                self._stop_stream()
                self._set_position(self._duration)
            return
        pos = self._position()
        if self._loop and pos >= self._loop[1]:
            start, end = self._loop
            self._anchor = start + (pos - start) % max(1e-3, end - start)
            self._anchor_time = time.monotonic()
        elif pos >= self._duration:
            self._playing = False
            self._anchor = self._duration

    # audible path: PortAudio pulls, the stretcher and the resampler fill the queue

    def _start_stream(self) -> None:
        sd = self._sd
        try:
            if self._stream is None:
                info = sd.query_devices(self._device, kind="output")
                self._rate = int(info["default_samplerate"]) or SAMPLE_RATE
                channels = 2 if int(info["max_output_channels"]) >= 2 else 1
                self._stream = sd.OutputStream(
                    samplerate=self._rate,
                    channels=channels,
                    dtype="float32",
                    device=self._device,
                    callback=self._callback,
                    latency="low",
                )
            self._stream.start()
        except Exception as e:  # device busy or gone: keep going silently
            log.warning("audio output failed, playing silently: %s", e)
            self._silent_reason = f"audio output failed ({e})"
            self._stream = None
            self._anchor, self._anchor_time = self._consumed, time.monotonic()

    def _stop_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
            except Exception:
                log.debug("stopping the output stream failed", exc_info=True)

    def _produce(self) -> None:
        """Queue the next ~16 ms of output at the device's rate."""
        if self._loop and self._stretcher.position >= self._loop[1] * SAMPLE_RATE:
            self._stretcher.reset(self._loop[0] * SAMPLE_RATE)
        if self._stretcher.position >= len(self._samples):
            hop, tag = np.zeros(_HOP, dtype=np.float32), float(len(self._samples))
        elif self._speed == 1.0:
            p = int(round(self._stretcher.position))
            hop = _read(self._samples, p, p + _HOP)
            hop = np.concatenate([hop, np.zeros(_HOP - len(hop), np.float32)]) if len(hop) < _HOP else hop
            tag = self._stretcher.position
            self._stretcher.reset(p + _HOP)
        else:
            hop, tag = self._stretcher.next_hop(self._speed)
        if self._rate != SAMPLE_RATE:
            if self._resampler is None:
                import soxr

                self._resampler = soxr.ResampleStream(SAMPLE_RATE, self._rate, 1, dtype="float32", quality="MQ")
            hop = self._resampler.resample_chunk(hop)
        if len(hop):
            self._fifo.append((hop, tag / SAMPLE_RATE, self._speed / self._rate))

    def _pull(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, dtype=np.float32)
        filled = 0
        guard = 0
        while filled < frames:
            if not self._fifo:
                self._produce()
                guard += 1
                if guard > 10_000:
                    break
                continue
            chunk, tag, step = self._fifo[0]
            take = min(frames - filled, len(chunk) - self._fifo_offset)
            out[filled : filled + take] = chunk[self._fifo_offset : self._fifo_offset + take]
            self._fifo_offset += take
            filled += take
            self._consumed = tag + self._fifo_offset * step
            if self._fifo_offset >= len(chunk):
                self._fifo.popleft()
                self._fifo_offset = 0
        return out

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio's thread
        with self._lock:
            if not self._playing or self._ended:
                outdata.fill(0)
                return
            buf = self._pull(frames)
            if self._consumed >= self._duration:
                self._ended = True
        outdata[:] = buf[:, None]
