"""Microphone and system audio recorded together, as one 16 kHz mono stream (online calls).

The user's voice comes from the microphone, the other side of the call from the system output's
monitor (``*.monitor`` on PulseAudio/PipeWire, ``[Loopback]`` on Windows, BlackHole on macOS).
Each is an ordinary :class:`~engine.audio.capture.Capture` (its own device, native rate,
resampler, pause-and-reopen), and :class:`MixedCapture` adds them up into the one stream the
session records and recognizes, with a level per source for two meters.

Two devices never deliver in step: their blocks come at different moments, in different sizes,
and their clocks drift apart (a few samples a second). :class:`Mixer` is a small jitter buffer
per source, aligned on sample counts:

  * a block (``block_seconds``) goes out as soon as every live source has one;
  * a live source that is late by more than ``wait_seconds`` gets a block of silence (its few
    samples so far wait, whole), so the other never waits longer than that (a device that
    stalls, or delivers in bursts); what it delivers later follows;
  * a source that runs ahead by more than ``max_skew_seconds`` (its clock is faster, or a
    stalled device delivered its backlog at once) makes the others get silence, in one stretch,
    until the two are back together: the buffers stay bounded, nothing recorded is dropped and
    no source's audio is cut into pieces (a hard cap of ``max_buffer_seconds`` per source drops
    the oldest audio only when nothing takes the mix at all). After a stall the mix is longer
    than the wall-clock time by the stall, and the stalled source's backlog is heard against
    the other's silence: every word is kept, the two sides stay in order within the stall;
  * a source that fails (unplugged) stops being waited for; the other keeps recording, and a
    status message says so. It is mixed in again when its capture reopens it.

The sum is soft-limited: below ``KNEE`` it is the plain sum (speech from both sides keeps its
level), above it bends smoothly towards 1.0 and never goes past it, so nothing clips hard or wraps
when both sides are loud at once.

Nothing here runs in PortAudio's callback: each Capture's pump thread appends to a buffer under
a short lock, and a mixer thread of its own takes the blocks out and calls ``on_audio``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from engine.audio.capture import SAMPLE_RATE, AudioCallback, Capture, StatusCallback

log = logging.getLogger("minutes.capture")

MICROPHONE = "microphone"
SYSTEM = "system"
LABELS = {MICROPHONE: "the microphone", SYSTEM: "the system audio"}
TITLES = {MICROPHONE: "Microphone", SYSTEM: "System audio"}
KNEE = 0.7
SILENT_DBFS = -100.0  # what levels() reports for a source with nothing (20 * log10(1e-5))


def soft_limit(x: np.ndarray) -> np.ndarray:
    """Identity below KNEE; above, a tanh curve (same slope at the knee) that never passes 1.0."""
    out = x.astype(np.float32, copy=True)
    mag = np.abs(out)
    over = mag > KNEE
    if np.any(over):
        room = 1.0 - KNEE
        out[over] = np.sign(out[over]) * (KNEE + room * np.tanh((mag[over] - KNEE) / room))
    return out


def dbfs(rms: float) -> float:
    return round(20 * math.log10(max(rms, 1e-5)), 1)


class _Lane:
    """One source's pending 16 kHz samples (a FIFO of blocks)."""

    def __init__(self, name: str):
        self.name = name
        self.chunks: deque[np.ndarray] = deque()
        self.size = 0
        self.active = False
        self.dropped = 0
        self.received = 0  # samples this source ever delivered (0: it has not started yet)

    def push(self, block: np.ndarray, cap: int) -> None:
        self.chunks.append(np.asarray(block, dtype=np.float32).reshape(-1))
        self.size += self.chunks[-1].size
        self.received += self.chunks[-1].size
        while self.size > cap and self.chunks:  # nothing takes the mix: keep the newest audio
            over = self.size - cap
            head = self.chunks[0]
            if head.size <= over:
                self.chunks.popleft()
                self.size -= head.size
                self.dropped += head.size
            else:
                self.chunks[0] = head[over:]
                self.size -= over
                self.dropped += over

    def take(self, n: int) -> np.ndarray:
        """``n`` samples: what is here (at most n), then silence."""
        out = np.zeros(n, dtype=np.float32)
        filled = 0
        while filled < n and self.chunks:
            head = self.chunks[0]
            k = min(n - filled, head.size)
            out[filled : filled + k] = head[:k]
            filled += k
            if k == head.size:
                self.chunks.popleft()
            else:
                self.chunks[0] = head[k:]
        self.size -= filled
        return out


class Mixer:
    """The jitter buffer and the sum (no threads, no devices: the caller gives the clock)."""

    def __init__(
        self,
        names: tuple[str, ...] = (MICROPHONE, SYSTEM),
        block_seconds: float = 0.1,
        wait_seconds: float = 0.15,
        max_skew_seconds: float = 0.3,
        max_buffer_seconds: float = 5.0,
    ):
        self.lanes = {name: _Lane(name) for name in names}
        self.block = max(1, int(block_seconds * SAMPLE_RATE))
        self.wait = wait_seconds
        self.max_skew = int(max_skew_seconds * SAMPLE_RATE)
        self.cap = int(max_buffer_seconds * SAMPLE_RATE)
        self.padded = dict.fromkeys(names, 0)  # samples of silence put in for a late/behind source
        self._late_since: float | None = None

    def push(self, name: str, block: np.ndarray) -> None:
        lane = self.lanes[name]
        before = lane.dropped
        lane.push(block, self.cap)
        if lane.dropped > before:
            log.warning("mixer: %d samples of %s dropped (nothing takes the mix)", lane.dropped - before, name)

    def set_active(self, name: str, active: bool) -> None:
        self.lanes[name].active = active

    def take(self, now: float) -> list[tuple[np.ndarray, dict[str, float]]]:
        """The blocks that can go out now: (mixed block, {source: RMS of its part})."""
        out = []
        b = self.block
        while True:
            lanes = list(self.lanes.values())
            if not any(lane.size >= b for lane in lanes):
                self._late_since = None
                break
            live = [lane for lane in lanes if lane.active]
            lead = max((lane.size for lane in live), default=0)
            behind = {lane.name for lane in live if lead - lane.size > self.max_skew}
            late = [lane for lane in live if lane.size < b and lane.name not in behind]
            if late:
                if self._late_since is None:
                    self._late_since = now
                if now - self._late_since < self.wait:
                    break
            else:
                self._late_since = None
            parts = {}
            for lane in lanes:
                if lane.active and (lane.name in behind or lane.size < b):
                    # late or behind: a block of silence; its own audio waits whole, never cut into pieces
                    parts[lane.name] = np.zeros(b, dtype=np.float32)
                    self.padded[lane.name] += b
                else:
                    parts[lane.name] = lane.take(b)  # a lost source's last samples, then silence
            out.append(self._sum(parts))
        return out

    def flush(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        """Everything still buffered (at stop), padded to the longest source."""
        n = max(lane.size for lane in self.lanes.values())
        if n == 0:
            return []
        return [self._sum({lane.name: lane.take(n) for lane in self.lanes.values()})]

    @staticmethod
    def _sum(parts: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, float]]:
        total = np.sum(np.stack(list(parts.values())), axis=0, dtype=np.float32)
        rms = {name: float(np.sqrt(np.mean(p.astype(np.float64) ** 2))) for name, p in parts.items()}
        return soft_limit(total), rms


class MixedCapture:
    """Microphone + system audio as one stream, with the interface of :class:`Capture`.

    ``MixedCapture(microphone, system, on_audio, on_status=None, block_seconds=0.1,
    gap_marker_seconds=1.0, wait_seconds=0.15)``: ``microphone`` and ``system`` are device specs
    as ``--input-device`` takes them (None: the default input; ``system`` is typically a monitor
    source such as ``pulse:alsa_output....monitor``). ``on_audio(block)`` gets the mixed 16 kHz
    mono float32 blocks in order (from the mixer thread); ``on_status(state, message)`` gets:

      * ``capturing``: at least one source records (also when the other was just lost: the
        message says which one goes on alone);
      * ``waiting``: nothing records and a device is being waited for;
      * ``lost``: both sources failed: capture paused, everything recorded so far is kept;
      * ``stopped``.

    ``level`` / ``peak`` are the mixed stream's (as on Capture); :meth:`levels` gives each
    source's level in dBFS for a meter each, :meth:`states` each source's capture state.
    """

    Factory = Callable[..., Capture]

    def __init__(
        self,
        microphone: str | None,
        system: str,
        on_audio: AudioCallback,
        on_status: StatusCallback | None = None,
        block_seconds: float = 0.1,
        gap_marker_seconds: float = 1.0,
        wait_seconds: float = 0.15,
        capture_factory: Factory = Capture,
    ):
        self.on_audio = on_audio
        self.on_status = on_status or (lambda state, message: None)
        self.gap_marker_seconds = gap_marker_seconds
        self.mixer = Mixer(block_seconds=block_seconds, wait_seconds=wait_seconds)
        self.state = "stopped"
        self.level = 0.0
        self.peak = 0.0
        self.frames_in = 0
        self._levels = dict.fromkeys(self.mixer.lanes, SILENT_DBFS)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._was_capturing = False
        self._gap_due = False
        self.captures: dict[str, Capture] = {
            name: capture_factory(
                spec,
                lambda block, n=name: self._push(n, block),
                lambda state, message, n=name: self._status(n, state, message),
                block_seconds=block_seconds,
                gap_marker_seconds=0.0,  # a gap in one source is filled by the mixer; a gap in both, below
            )
            for name, spec in ((MICROPHONE, microphone), (SYSTEM, system))
        }

    # -- the Capture interface ------------------------------------------------------------
    @property
    def device(self):
        """The microphone's InputDevice (as Capture.device); ``captures[SYSTEM].device``: the other."""
        return self.captures[MICROPHONE].device

    def start(self) -> None:
        """Open both devices; an error opening either is raised (and nothing stays open)."""
        started = []
        try:
            for cap in self.captures.values():
                cap.start()
                started.append(cap)
        except Exception:
            self._stopping = True
            for cap in started:
                cap.stop()
            raise
        self._thread = threading.Thread(target=self._run, name="minutes-mixer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        for cap in self.captures.values():
            cap.stop()
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._cond:
            blocks = self.mixer.flush()
        for block in blocks:
            self._emit(*block)
        self.state = "stopped"
        log.info("Capture stopped.")
        self.on_status("stopped", "Capture stopped.")

    def switch(self, device: str | None, source: str = MICROPHONE) -> None:
        """Record ``source`` (``"microphone"`` or ``"system"``) from another device from now on."""
        self.captures[source].switch(device)

    def levels(self) -> dict[str, float]:
        """Each source's level in dBFS, of its part of the last mixed block:
        ``{"microphone": -23.4, "system": -31.0}``; -100.0 for silence or a lost source."""
        return dict(self._levels)

    def states(self) -> dict[str, str]:
        """Each source's capture state: capturing | lost | waiting | stopped."""
        return {name: cap.state for name, cap in self.captures.items()}

    # -- sources (their pump threads) -----------------------------------------------------
    def _push(self, name: str, block: np.ndarray) -> None:
        with self._cond:
            self.mixer.push(name, block)
            self._cond.notify()

    def _status(self, name: str, state: str, message: str) -> None:
        if self._stopping:
            return
        with self._cond:
            self.mixer.set_active(name, state == "capturing")
            self._cond.notify()
        states = self.states()
        states[name] = state  # the capture sets its own state before telling us; be sure
        other = next(n for n in states if n != name)
        if any(s == "capturing" for s in states.values()):
            overall = "capturing"
        elif any(s == "waiting" for s in states.values()):
            overall = "waiting"
        else:
            overall = "lost"
        label = LABELS[name]
        if state == "lost":
            if states[other] == "capturing":
                message = (
                    f"Lost {label} ({_device_name(self.captures[name])}): recording goes on with {LABELS[other]} "
                    f"alone; {label} is mixed in again when it returns."
                )
            else:
                message = (
                    "Lost both the microphone and the system audio: capture paused, everything recorded so far "
                    "is kept; it resumes when a device returns or another is chosen."
                )
        else:
            message = f"{TITLES[name]}: {message}"
        if overall == "capturing" and not self._was_capturing and self.state != "stopped":
            self._gap_due = self.gap_marker_seconds > 0  # back after both were gone
        self._was_capturing = overall == "capturing"
        self.state = overall
        log.info("%s", message)
        self.on_status(overall, message)

    # -- the mix (its own thread) ---------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                self._cond.wait(timeout=0.02)
                blocks = self.mixer.take(time.monotonic())
                gap, self._gap_due = self._gap_due, False
            if gap:
                silence = np.zeros(int(self.gap_marker_seconds * SAMPLE_RATE), dtype=np.float32)
                self._emit(silence, dict.fromkeys(self.mixer.lanes, 0.0))
            for block in blocks:
                self._emit(*block)

    def _emit(self, audio: np.ndarray, rms: dict[str, float]) -> None:
        if audio.size == 0:
            return
        self._levels = {name: dbfs(r) for name, r in rms.items()}
        self.level = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        self.peak = float(np.max(np.abs(audio)))
        self.frames_in += audio.size
        self.on_audio(audio)


def _device_name(cap: Capture) -> str:
    return cap.device.name if cap.device is not None else str(cap.spec or "default")
