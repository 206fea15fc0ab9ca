"""Microphone and system-audio capture as 16 kHz mono float32 blocks (sounddevice / PortAudio).

Why a class around sounddevice: a meeting outlives devices. A headset gets unplugged, a USB
mic is grabbed by another program, a Bluetooth link drops. Capture must then *pause* with a
clear status, never crash the session, and resume by itself when the device is back (or when
the user picks another one). Every problem is a :class:`~engine.errors.DeviceError` with a
message that says what to do.

Devices:
  * PortAudio inputs (any OS): microphones, line-in, virtual cables.
  * Linux, PulseAudio or PipeWire (pipewire-pulse): every *source* the sound server has,
    including ``*.monitor`` sources, which carry what the computer plays (the other side of an
    online meeting). They are opened through PortAudio's ALSA ``pulse`` device with
    ``PULSE_SOURCE`` naming the source.
  * Windows: WASAPI loopback. PortAudio builds that carry upstream's loopback support list
    every output as an extra input named ``... [Loopback]``; those are marked as system audio.
    This path is written but untested here (no Windows machine); where the bundled PortAudio
    lacks it, enable "Stereo Mix" or install a virtual cable (e.g. VB-CABLE).
  * macOS has no system-audio capture API in PortAudio: install a loopback device such as
    BlackHole, make a Multi-Output Device (speakers + BlackHole) in Audio MIDI Setup, and pick
    BlackHole here.

Device lists: PortAudio scans the devices once, when it is initialised. A fresh list (a device
plugged in later) is taken in a short-lived child process (``python -c``: sounddevice's
``query_devices`` as JSON, about 0.1-0.3 s), because re-initialising PortAudio here would close
every stream this process has open (a player, a level meter, the other half of a mixed
capture). PortAudio here is re-initialised only when no stream at all is open in the process
and a device is wanted that only the fresh list knows.

Audio arrives in PortAudio's callback thread, is copied into a queue and nothing else; a
pump thread downmixes, resamples (soxr, one continuous stream per device opening), measures
the level and hands blocks on, so a slow consumer can never make the driver drop samples.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import soxr

from engine.audio import SAMPLE_RATE
from engine.errors import DeviceError

PULSE_PREFIX = "pulse:"

log = logging.getLogger("minutes.capture")

AudioCallback = Callable[[np.ndarray], None]
StatusCallback = Callable[[str, str], None]  # (state, message): capturing | lost | waiting | stopped


@dataclass
class InputDevice:
    """An input the user can pick; ``id`` is what ``--input-device`` accepts."""

    id: str
    name: str
    hostapi: str
    channels: int
    sample_rate: float
    default: bool = False
    loopback: bool = False  # records what the computer plays (system audio)
    index: int | None = None  # PortAudio device index
    pulse_source: str | None = None  # PulseAudio/PipeWire source name

    def describe(self) -> str:
        tags = [t for t, on in (("default", self.default), ("system audio", self.loopback)) if on]
        extra = f" [{', '.join(tags)}]" if tags else ""
        return f"{self.id:>4}  {self.name} ({self.hostapi}, {self.channels} ch, {self.sample_rate:.0f} Hz){extra}"


def _sd():
    """sounddevice, imported on first use (it loads the PortAudio library)."""
    try:
        import sounddevice
    except OSError as e:  # the Python package is there but libportaudio is not
        raise DeviceError(
            "Audio capture needs the PortAudio library: install it (Debian/Ubuntu: apt install libportaudio2; "
            "Fedora: dnf install portaudio)."
        ) from e
    except ImportError as e:
        raise DeviceError("Audio capture needs the 'sounddevice' package: pip install sounddevice.") from e
    return sounddevice


_LIST_SCRIPT = (
    "import json, sounddevice as sd; "
    "print(json.dumps({'devices': [dict(d) for d in sd.query_devices()], "
    "'hostapis': [dict(h) for h in sd.query_hostapis()], 'default_input': sd.default.device[0]}))"
)
_env_lock = threading.Lock()  # PULSE_SOURCE is ours only while a stream opens


def _fresh_portaudio() -> dict | None:
    """PortAudio's device list as a new PortAudio sees it (a child process), or None if that fails."""
    if getattr(sys, "frozen", False):  # a bundled app has no `python -c`
        return None
    try:
        out = subprocess.run(
            [sys.executable, "-c", _LIST_SCRIPT], capture_output=True, text=True, timeout=15, check=True
        ).stdout
        listing = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        log.debug("device listing in a child process failed", exc_info=True)
        return None
    return listing


def _local_portaudio() -> dict:
    sd = _sd()
    try:
        return {
            "devices": [dict(d) for d in sd.query_devices()],
            "hostapis": [dict(h) for h in sd.query_hostapis()],
            "default_input": sd.default.device[0],
        }
    except sd.PortAudioError as e:
        raise DeviceError(f"Cannot list audio devices: {e}.") from e


def open_streams() -> int:
    """How many sounddevice streams are open in this process (anyone's, not only capture's)."""
    sd = _sd()
    base = getattr(sd, "_StreamBase", None)
    if base is None:
        return 1 << 30  # unknown: assume busy
    return sum(1 for o in gc.get_objects() if isinstance(o, base) and not getattr(o, "closed", True))


def refresh_devices() -> bool:
    """Make this process's PortAudio scan again, only when no stream is open in the process.

    Re-initialising PortAudio closes every open stream (``Pa_Terminate``), so it is refused
    while any is open; returns whether it re-scanned. To *see* new devices without touching
    open streams, use ``list_devices(refresh=True)`` (a child process lists them)."""
    sd = _sd()
    if open_streams():
        return False
    sd._terminate()
    sd._initialize()
    return True


def pulse_sources() -> list[tuple[str, str]]:
    """(name, state) of the PulseAudio/PipeWire sources, or [] without a sound server or pactl."""
    if not sys.platform.startswith("linux") or shutil.which("pactl") is None:
        return []
    try:
        out = subprocess.run(
            ["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    sources = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1]:
            sources.append((parts[1], parts[4] if len(parts) > 4 else ""))
    return sources


def _pulse_default_source() -> str | None:
    try:
        out = subprocess.run(["pactl", "get-default-source"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def list_devices(refresh: bool = False) -> list[InputDevice]:
    """Every input the user can record from (PortAudio inputs, then sound-server sources).

    ``refresh``: the current devices, including ones plugged in since PortAudio started here,
    listed in a child process so that no open stream is disturbed. ``index`` is always this
    process's PortAudio index (matched by name and host API); it is None for a device only the
    fresh list has, until PortAudio here can be re-scanned (see :func:`_open_index`)."""
    local = _local_portaudio()
    listing = (_fresh_portaudio() if refresh else None) or local
    local_index = _index_map(local)
    apis = listing["hostapis"]
    out: list[InputDevice] = []
    for d in listing["devices"]:
        if d["max_input_channels"] <= 0:
            continue
        api = apis[d["hostapi"]]["name"]
        out.append(
            InputDevice(
                id=str(d["index"]),
                name=d["name"],
                hostapi=api,
                channels=int(d["max_input_channels"]),
                sample_rate=float(d["default_samplerate"]),
                default=d["index"] == listing["default_input"],
                loopback="WASAPI" in api and "[Loopback]" in d["name"],
                index=local_index.get((d["name"], api)),
            )
        )
    pulse = next((d for d in out if d.name == "pulse"), None)
    if pulse is not None:
        default_source = _pulse_default_source()
        for name, _state in pulse_sources():
            out.append(
                InputDevice(
                    id=PULSE_PREFIX + name,
                    name=name,
                    hostapi="PulseAudio",
                    channels=2,
                    sample_rate=pulse.sample_rate,
                    default=name == default_source,
                    loopback=name.endswith(".monitor"),
                    index=pulse.index,
                    pulse_source=name,
                )
            )
    return out


def _index_map(listing: dict) -> dict[tuple[str, str], int]:
    apis = listing["hostapis"]
    return {(d["name"], apis[d["hostapi"]]["name"]): int(d["index"]) for d in listing["devices"]}


def _open_index(dev: InputDevice) -> int:
    """This process's PortAudio index for ``dev``; re-scans here only when no stream is open."""
    if dev.index is not None:
        return dev.index
    api = "ALSA" if dev.pulse_source is not None else dev.hostapi
    name = "pulse" if dev.pulse_source is not None else dev.name
    if refresh_devices():
        index = _index_map(_local_portaudio()).get((name, api))
        if index is not None:
            return index
    raise DeviceError(
        f"Input device '{dev.name}' appeared after Minutes started and cannot be opened while other audio "
        "streams of this program are open: stop them (or restart Minutes) to use it."
    )


@contextmanager
def _pulse_source(name: str | None):
    """``PULSE_SOURCE=name`` while a stream opens (the pulse plugin reads it then), restored after."""
    if name is None:
        yield
        return
    with _env_lock:
        saved = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = name
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("PULSE_SOURCE", None)
            else:
                os.environ["PULSE_SOURCE"] = saved


def find_device(spec: str | None, devices: list[InputDevice] | None = None) -> InputDevice:
    """The device ``spec`` names: its id, its exact name, or a unique part of its name; None: the default."""
    devices = list_devices() if devices is None else devices
    if not devices:
        raise DeviceError(
            "No audio input device found: plug in a microphone (on Linux, check that PulseAudio/PipeWire "
            "or ALSA sees it), or transcribe a file instead."
        )
    if spec is None or spec == "":
        portaudio_default = [d for d in devices if d.default and d.pulse_source is None]
        return (portaudio_default or [d for d in devices if d.default] or devices)[:1][0]
    s = str(spec).strip()
    for test in (
        lambda d: d.id == s,
        lambda d: d.name == s,
        lambda d: d.pulse_source is not None and d.pulse_source == s,
        lambda d: d.name.lower() == s.lower(),
    ):
        hits = [d for d in devices if test(d)]
        if hits:
            return hits[0]
    hits = [d for d in devices if s.lower() in d.name.lower()]
    if len(hits) == 1:
        return hits[0]
    names = "; ".join(f"{d.id}: {d.name}" for d in devices[:12])
    if hits:
        raise DeviceError(f"Input device '{s}' is ambiguous ({len(hits)} match): give its number. Inputs: {names}")
    raise DeviceError(f"Input device '{s}' not found. Inputs: {names} (see `minutes devices`).")


class _Resampler:
    """Downmix and resample one device opening's audio to 16 kHz mono, seamlessly."""

    def __init__(self, rate: int):
        self.stream = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        mono = block.mean(axis=1, dtype=np.float32) if block.ndim == 2 and block.shape[1] > 1 else block.reshape(-1)
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        return mono if self.stream is None else self.stream.resample_chunk(mono, last=last)


class Capture:
    """Records one input device, pausing and reopening it when it fails.

    ``on_audio(block)`` gets 16 kHz mono float32 blocks in order (from the pump thread);
    ``on_status(state, message)`` gets ``capturing``, ``lost`` (the device failed: capture
    paused, audio so far is kept), ``waiting`` (still trying) and ``stopped``. After a gap,
    ``gap_marker_seconds`` of silence is inserted so that words on both sides never merge.
    """

    STALL_SECONDS = 2.0  # no audio from a running stream for this long: the device is gone
    RETRY_SECONDS = 1.0
    PULSE_CHECK_SECONDS = 1.0  # how often a PulseAudio source is checked to be still there (pactl: ~5 ms)
    REFRESH_SECONDS = 3.0  # while waiting, a fresh device list (a child process) at most this often

    def __init__(
        self,
        device: str | None,
        on_audio: AudioCallback,
        on_status: StatusCallback | None = None,
        block_seconds: float = 0.1,
        gap_marker_seconds: float = 1.0,
    ):
        self.spec = device
        self.on_audio = on_audio
        self.on_status = on_status or (lambda state, message: None)
        self.block_seconds = block_seconds
        self.gap_marker_seconds = gap_marker_seconds
        self.device: InputDevice | None = None
        self.state = "stopped"
        self.level = 0.0  # RMS of the last block (0..1), for a meter
        self.peak = 0.0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stream = None
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._switch: str | None | bool = False  # False: no switch requested
        self._thread: threading.Thread | None = None
        self._last_audio = 0.0
        self._pulse_checked = 0.0
        self._resample: _Resampler | None = None
        self.frames_in = 0  # samples delivered at 16 kHz

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the device (errors here are raised: the user asked for something that is not there).

        The device list is a fresh one (a device plugged in since PortAudio started counts)."""
        self._open(self.spec, refresh=True)
        self._thread = threading.Thread(target=self._pump, name="minutes-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()
        self._set_state("stopped", "Capture stopped.")

    def switch(self, device: str | None) -> None:
        """Record from another device from now on (also while waiting for a lost one)."""
        self._switch = device

    # -- stream ----------------------------------------------------------------------------
    def _open(self, spec: str | None, refresh: bool = False) -> None:
        sd = _sd()
        dev = find_device(spec, list_devices(refresh=refresh))
        index = _open_index(dev)
        rate = int(dev.sample_rate) or 48000
        last_error: Exception | None = None
        for channels in (1, min(2, dev.channels)):
            try:
                with _pulse_source(dev.pulse_source):
                    stream = sd.InputStream(
                        device=index,
                        channels=channels,
                        samplerate=rate,
                        dtype="float32",
                        blocksize=max(1, int(rate * self.block_seconds)),
                        callback=self._callback,
                        finished_callback=self._lost.set,
                    )
            except sd.PortAudioError as e:
                last_error = e
                continue
            try:
                stream.start()
                break
            except sd.PortAudioError as e:
                last_error = e
                stream.close(ignore_errors=True)
        else:
            raise DeviceError(
                f"Cannot open input device '{dev.name}': it is busy or unavailable ({_one_line(last_error)}). "
                "Close other programs using it, or pick another with --input-device (see `minutes devices`)."
            )
        self._lost.clear()
        self._stream = stream
        self._resample = _Resampler(rate)
        self._last_audio = time.monotonic()
        self.device = dev
        self.spec = spec
        self._set_state("capturing", f"Recording from {dev.name} ({rate} Hz).")

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)
        except Exception:  # noqa: BLE001 - a dead device may fail to close; it is gone either way
            pass

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio's thread: copy, nothing else
        self._queue.put(indata.copy())

    # -- pump ------------------------------------------------------------------------------
    def _pump(self) -> None:
        while not self._stop.is_set():
            if self._switch is not False:
                spec, self._switch = self._switch, False
                self._flush()
                self._close()
                self._reconnect(spec)
                continue
            try:
                block = self._queue.get(timeout=0.2)
            except queue.Empty:
                block = None
            gone = self._pulse_source_gone()
            if block is not None and not gone:
                self._last_audio = time.monotonic()
                self._deliver(block)
                continue
            stalled = time.monotonic() - self._last_audio > self.STALL_SECONDS
            if self._stream is not None and (self._lost.is_set() or stalled or gone or not self._stream.active):
                name = self.device.name if self.device else "the input device"
                self._flush()
                self._close()
                self._set_state(
                    "lost",
                    f"Lost {name} (unplugged or taken by another program): capture paused, everything recorded so "
                    "far is kept; it resumes when the device returns or another is chosen.",
                )
                self._reconnect(self.spec)
        self._flush()

    def _pulse_source_gone(self) -> bool:
        """True once our PulseAudio source is no longer listed (checked every PULSE_CHECK_SECONDS).

        The sound server does not end a recording whose source disappears: it moves it to the
        default source (PulseAudio 14+ and PipeWire rescue streams), so without this check an
        unplugged headset, or a vanished monitor in a mix, would silently record another device."""
        dev = self.device
        if dev is None or dev.pulse_source is None or self._stream is None:
            return False
        now = time.monotonic()
        if now - self._pulse_checked < self.PULSE_CHECK_SECONDS:
            return False
        self._pulse_checked = now
        sources = pulse_sources()
        return bool(sources) and dev.pulse_source not in {name for name, _state in sources}

    def _reconnect(self, spec: str | None) -> None:
        """Try to open ``spec`` every RETRY_SECONDS until it works, another device is chosen, or stop."""
        announced = False
        refreshed = -self.REFRESH_SECONDS
        while not self._stop.is_set():
            if self._switch is not False:
                spec, self._switch = self._switch, False
                refreshed = -self.REFRESH_SECONDS
            refresh = time.monotonic() - refreshed >= self.REFRESH_SECONDS
            if refresh:
                refreshed = time.monotonic()
            try:
                self._open(spec, refresh=refresh)
            except DeviceError as e:
                if not announced:
                    self._set_state("waiting", f"Waiting for an input device: {e}")
                    announced = True
                self._stop.wait(self.RETRY_SECONDS)
                continue
            if self.gap_marker_seconds > 0:
                self._emit(np.zeros(int(self.gap_marker_seconds * SAMPLE_RATE), dtype=np.float32))
            return

    def _deliver(self, block: np.ndarray) -> None:
        if self._resample is None:
            return
        self._emit(self._resample(block))

    def _flush(self) -> None:
        while True:
            try:
                self._deliver(self._queue.get_nowait())
            except queue.Empty:
                break
        if self._resample is not None:
            self._emit(self._resample(np.zeros((0, 1), dtype=np.float32), last=True))
            self._resample = None

    def _emit(self, audio: np.ndarray) -> None:
        if audio.size == 0:
            return
        self.level = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        self.peak = float(np.max(np.abs(audio)))
        self.frames_in += audio.size
        self.on_audio(audio)

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        log.info("%s", message)
        self.on_status(state, message)


def _one_line(e: Exception | None) -> str:
    return " ".join(str(e).split()) if e else "unknown error"
