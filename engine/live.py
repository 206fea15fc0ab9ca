"""Pieces of a live session that are not recognition: events, a file fed like a microphone,
the JSON-lines event log, and speaker labels from time spans (Turns).

``engine.live_session.LiveSession`` wires them together; a GUI or the CLI subscribes to the
events. Nothing here imports Qt, and events are plain dataclasses with a JSON form.
"""

from __future__ import annotations

import bisect
import enum
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import MinutesError
from engine.transcript import Segment

log = logging.getLogger("minutes.live")


EVENT_TYPES = ("started", "partial", "confirmed", "segment", "speaker", "chapter", "level", "status", "stopped")


class EventType(str, enum.Enum):
    """What a :class:`LiveEvent` is; a ``str``, so ``event.type == "confirmed"`` holds."""

    STARTED = "started"
    PARTIAL = "partial"
    CONFIRMED = "confirmed"
    SEGMENT = "segment"
    SPEAKER = "speaker"
    CHAPTER = "chapter"
    LEVEL = "level"
    STATUS = "status"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


class SessionState(str, enum.Enum):
    """The ``state`` of a ``status`` event (a ``str``: ``state == "paused"`` holds).

    From the input (engine/audio/capture.py, :class:`FileSource`): ``capturing`` (audio is
    arriving), ``lost`` (the device failed; what was recorded is kept), ``waiting`` (no device
    yet, retrying), ``reconnecting``, ``stopped`` (input closed). From the session:
    ``recording`` (again, after a pause), ``paused``, ``catching_up`` / ``live`` (recognition
    is behind / has caught up), ``recording_error`` (audio cannot be written; recognition goes
    on), ``error``, ``final_pass`` / ``final_pass_cancelled`` (at stop).
    """

    CAPTURING = "capturing"
    LOST = "lost"
    WAITING = "waiting"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    RECORDING = "recording"
    PAUSED = "paused"
    CATCHING_UP = "catching_up"
    LIVE = "live"
    RECORDING_ERROR = "recording_error"
    ERROR = "error"
    FINAL_PASS = "final_pass"
    FINAL_PASS_CANCELLED = "final_pass_cancelled"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, state: str) -> SessionState | str:
        """The member for ``state``; a state this list lacks (a newer input's) stays a plain str."""
        try:
            return cls(state)
        except ValueError:
            return state


Word3 = tuple[float, float, str]  # (start, end, text) of one word, seconds of session audio


def speaker_name(speaker: str) -> str:
    """The name shown for a speaker id: ``S2`` -> ``Speaker 2``; other ids as they are."""
    return f"Speaker {speaker[1:]}" if speaker[1:].isdigit() else speaker


@dataclass(frozen=True)
class Started:
    folder: str  # the session folder

    def to_data(self) -> dict[str, Any]:
        return {"folder": self.folder}


@dataclass(frozen=True)
class Stopped:
    folder: str

    def to_data(self) -> dict[str, Any]:
        return {"folder": self.folder}


@dataclass(frozen=True)
class PartialText:
    """Unconfirmed words of line ``segment``; the next partial replaces them."""

    segment: int
    words: tuple[Word3, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"segment": self.segment, "words": [list(w) for w in self.words]}


@dataclass(frozen=True)
class ConfirmedText:
    """Words of line ``segment`` fixed for good (appended to the line's earlier confirmed words)."""

    segment: int
    words: tuple[Word3, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"segment": self.segment, "words": [list(w) for w in self.words]}


@dataclass(frozen=True)
class SegmentDone:
    """Line ``index`` is finished (its confirmed words end here); ``speaker`` usually follows later."""

    index: int
    start: float
    end: float
    text: str
    speaker: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"segment": self.index, "speaker": self.speaker}


@dataclass(frozen=True)
class SpeakerLabel:
    segment: int  # index of the line (as in SegmentDone.index)
    speaker: str  # the id, e.g. "S1"
    name: str  # as shown, e.g. "Speaker 1"


@dataclass(frozen=True)
class SpeakerLabels:
    """Speakers of finished lines: a new line's first guess, or lines revised by re-clustering.

    One shape for both; the JSON form keeps ``updates`` ([[segment, speaker], ...]) and, for a
    single label, the older ``segment``/``speaker`` keys too."""

    labels: tuple[SpeakerLabel, ...]

    def to_data(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if len(self.labels) == 1:
            d.update(segment=self.labels[0].segment, speaker=self.labels[0].speaker)
        d["updates"] = [[x.segment, x.speaker] for x in self.labels]
        return d


@dataclass(frozen=True)
class ChapterInfo:
    start: float
    end: float
    title: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChapterList:
    """All chapters so far; the first ``settled`` will not change any more."""

    chapters: tuple[ChapterInfo, ...]
    settled: int = 0

    def to_data(self) -> dict[str, Any]:
        chapters = [
            {"start": c.start, "end": c.end, "title": c.title, "keywords": list(c.keywords)} for c in self.chapters
        ]
        return {"chapters": chapters, "settled": self.settled}


@dataclass(frozen=True)
class Level:
    """The input meter: ``dbfs`` of the last block (RMS), ``rms``/``peak`` linear; ``sources``
    the same in dBFS per input when several are mixed (e.g. {"microphone": -20.0, "system": -35.0})."""

    dbfs: float
    rms: float = 0.0
    peak: float = 0.0
    sources: dict[str, float] | None = None

    def to_data(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rms": self.rms, "peak": self.peak, "dbfs": self.dbfs}
        if self.sources:
            d["sources"] = dict(self.sources)
        return d


@dataclass(frozen=True)
class Status:
    state: SessionState | str
    message: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"state": str(self.state), "message": self.message}


Payload = Started | Stopped | PartialText | ConfirmedText | SegmentDone | SpeakerLabels | ChapterList | Level | Status

PAYLOAD_TYPES: dict[type, EventType] = {
    Started: EventType.STARTED,
    Stopped: EventType.STOPPED,
    PartialText: EventType.PARTIAL,
    ConfirmedText: EventType.CONFIRMED,
    SegmentDone: EventType.SEGMENT,
    SpeakerLabels: EventType.SPEAKER,
    ChapterList: EventType.CHAPTER,
    Level: EventType.LEVEL,
    Status: EventType.STATUS,
}


@dataclass(frozen=True)
class LiveEvent:
    """One thing a subscriber may show; picklable (it may cross a process boundary).

    ``type`` (an :class:`EventType`): ``started`` (audio time 0 is ``wall``), ``partial``
    (unconfirmed words, replaced by the next partial), ``confirmed`` (words fixed for good),
    ``segment`` (a finished line), ``speaker`` (labels of finished lines, new or revised),
    ``chapter`` (all chapters so far), ``level`` (input meter), ``status`` (capture/recognition
    state, :class:`SessionState`, and a one-line message), ``stopped``. ``wall`` is the Unix time
    the event was emitted; ``audio_start``/``audio_end`` are seconds of session audio (the
    recording, which has no paused time: :func:`audio_to_wall`) the event covers; ``payload``
    is the typed content (:class:`Status`, :class:`SegmentDone`, ...), ``data`` its dict form.
    """

    type: EventType
    wall: float
    audio_start: float | None = None
    audio_end: float | None = None
    text: str | None = None
    payload: Payload | None = None

    @classmethod
    def of(cls, payload: Payload, wall: float | None = None, audio_start=None, audio_end=None, text=None) -> LiveEvent:
        """The event carrying ``payload`` (its type follows from the payload's class)."""
        return cls(PAYLOAD_TYPES[type(payload)], wall or time.time(), audio_start, audio_end, text, payload)

    @property
    def data(self) -> dict[str, Any]:
        """The payload as the dict events had before payloads were typed (and the log writes)."""
        return self.payload.to_data() if self.payload is not None else {}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": str(self.type), "wall": round(self.wall, 6)}
        if self.audio_start is not None:
            d["audio_start"] = round(float(self.audio_start), 3)
        if self.audio_end is not None:
            d["audio_end"] = round(float(self.audio_end), 3)
        if self.text is not None:
            d["text"] = self.text
        d.update(self.data)
        return d


Subscriber = Callable[[LiveEvent], None]


class EventLog:
    """A subscriber writing every event as one JSON line (flushed per line, so it can be tailed)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.f = open(self.path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise MinutesError(f"Cannot write the event log '{path}': {e.strerror or e}.") from e
        self._lock = threading.Lock()

    def __call__(self, event: LiveEvent) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False)
        with self._lock:
            if not self.f.closed:
                self.f.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self.f.close()


class FileSource:
    """Feeds an audio file through the live path as a microphone would: blocks of
    ``block_seconds``, each delivered when it would have been fully captured (``realtime``),
    or as fast as the session takes them (``busy()`` says when to wait)."""

    def __init__(
        self,
        path: str | Path,
        on_audio: Callable[[np.ndarray], None],
        on_status: Callable[[str, str], None] | None = None,
        realtime: bool = True,
        block_seconds: float = 0.1,
        busy: Callable[[], bool] | None = None,
        loops: int = 1,
    ):
        from engine.audio.decode import probe

        self.path = Path(path)
        self.meta = probe(self.path)  # AudioError now, not in the thread
        self.on_audio = on_audio
        self.on_status = on_status or (lambda state, message: None)
        self.realtime = realtime
        self.block_seconds = block_seconds
        self.busy = busy or (lambda: False)
        self.loops = max(1, loops)
        self.level = 0.0
        self.peak = 0.0
        self.frames_in = 0
        self.start_wall = 0.0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused = threading.Event()
        self._paused_at = 0.0
        self._gate = threading.RLock()  # held while a block is delivered: pause() waits for it

    def start(self, start_wall: float | None = None) -> None:
        self.start_wall = start_wall or time.time()
        self._thread = threading.Thread(target=self._run, name="minutes-file-source", daemon=True)
        self._thread.start()
        self.on_status("capturing", f"Reading {self.path.name}{' in real time' if self.realtime else ''}.")

    def pause(self) -> None:
        """Deliver nothing more until :meth:`resume` (the file waits where it is, its pace too);
        returns once no block is being delivered."""
        with self._gate:
            if not self._paused.is_set():
                self._paused_at = time.time()
                self._paused.set()

    def resume(self) -> None:
        with self._gate:
            if self._paused.is_set():
                self.start_wall += time.time() - self._paused_at  # real-time pace goes on from here
                self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.on_status("stopped", "Input stopped.")

    def _run(self) -> None:
        from engine.audio.decode import stream_audio

        try:
            for _ in range(self.loops):
                for big in stream_audio(self.path, block_seconds=10.0):
                    step = int(self.block_seconds * SAMPLE_RATE)
                    for i in range(0, big.size, step):
                        if self._stop.is_set():
                            return
                        self._deliver(big[i : i + step])
        except MinutesError as e:
            self.on_status("lost", str(e))
        finally:
            self.done.set()

    def _deliver(self, block: np.ndarray) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(0.05)
                continue
            if self.realtime:
                wait = self.start_wall + (self.frames_in + block.size) / SAMPLE_RATE - time.time()
                if wait > 0:
                    self._stop.wait(min(wait, 0.05))  # short steps: a pause meanwhile holds the block
                    continue
            elif self.busy():
                time.sleep(0.01)
                continue
            with self._gate:
                if self._paused.is_set():
                    continue
                self.level = float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if block.size else 0.0
                self.peak = float(np.max(np.abs(block))) if block.size else 0.0
                self.frames_in += block.size
                self.on_audio(block)
            return


class Turns:
    """(start, end, label) turns sorted by time, so a lookup reads the few turns near it, not the meeting."""

    def __init__(self, turns: list[tuple[float, float, str]]):
        self.turns = sorted(turns)
        self.starts = [t[0] for t in self.turns]
        self.longest = max((b - a for a, b, _ in self.turns), default=0.0)

    def near(self, start: float, end: float) -> list[tuple[float, float, str]]:
        """Every turn that can overlap [start, end]."""
        lo = bisect.bisect_left(self.starts, start - self.longest)
        return self.turns[lo : bisect.bisect_right(self.starts, end)]

    def majority(self, start: float, end: float) -> str | None:
        """The label that covers most of [start, end]; with none overlapping, the nearest turn's."""
        talk: dict[str, float] = {}
        for a, b, label in self.near(start, end):
            ov = min(b, end) - max(a, start)
            if ov > 0:
                talk[label] = talk.get(label, 0.0) + ov
        if not talk:
            near = min(self.turns, key=lambda t: min(abs(t[0] - end), abs(t[1] - start)), default=None)
            return near[2] if near else None
        return max(talk, key=talk.get)

    def at(self, time: float) -> str | None:
        """The label of the latest-starting turn holding ``time``, if any."""
        return next((label for a, b, label in reversed(self.near(time, time)) if a <= time <= b), None)


def label_segments(segments: list[Segment], turns: list[tuple[float, float, str]]) -> list[int]:
    """Set each segment's speaker from the turns; returns the indices whose label changed."""
    index = Turns(turns)
    changed = []
    for i, s in enumerate(segments):
        label = index.majority(s.start, s.end)
        if label is not None and label != s.speaker:
            s.speaker = label
            changed.append(i)
    return changed


def split_at_speaker_changes(
    segments: list[Segment], turns: list[tuple[float, float, str]], language: str | None
) -> list[Segment]:
    """The final transcript's lines: every word takes the speaker of the turn it falls in, and a
    line splits where that changes, so no line holds two people.

    Live lines are cut by pauses and length, not by who speaks; the final re-clustering knows
    who spoke within a line. Labels are the ones shown live; words no turn covers keep their line's.
    """
    from engine.speakers.assign import split_at_labels

    index = Turns(turns)
    out: list[Segment] = []
    for seg in segments:
        if not seg.words or not turns:
            out.append(seg)
            continue
        labels: list[str | None] = []
        for w in seg.words:
            mid = (w.start + max(w.end, w.start + 0.01)) / 2
            labels.append(index.at(mid) or (labels[-1] if labels else seg.speaker))
        out.extend(split_at_labels(seg, labels, language))
    return out


@dataclass
class LiveOptions:
    """What a live session does besides recognition (which ``streaming`` configures)."""

    input_device: str | None = None  # a name, number or part of a name; None: the default input
    system_device: str | None = None  # system audio, e.g. a PulseAudio monitor source, mixed with the microphone
    from_file: str | Path | None = None  # feed this file instead of a device (tests, benchmarks)
    realtime: bool = True  # with from_file: at the pace of real time
    loops: int = 1  # with from_file: play it this many times (long-run benchmarks)
    folder: str | Path | None = None  # session folder; None: a new one under <data dir>/sessions
    speakers: bool = True  # label speakers live (engine.speakers.live) when it is available
    chapters: bool = True  # live chapters (engine.chapters) when available
    keywords: str | None = None  # agenda for the chapters
    relabel_seconds: float = 60.0  # re-cluster speakers after this much new audio
    chapter_seconds: float = 15.0  # update chapters at most this often (audio seconds)
    final_pass: bool = False  # at stop, transcribe the whole recording at file quality
    level_interval: float = 0.1  # seconds between level events


def audio_to_wall(session_info, audio_seconds: float) -> float:
    """The Unix time at which ``audio_seconds`` of a session's recording were captured.

    The recording has no paused time: each pause in ``session.json`` (``pauses``: a list of
    ``{"audio": s, "wall_paused": t, "wall_resumed": t}``, see engine/audio/recorder.py)
    marks where wall time jumps. ``session_info`` is session.json's dict, an object with a
    ``meta`` dict (``engine.audio.recorder.SessionInfo``, ``Recorder``), or a session folder.
    Audio at a pause's mark maps to the moment of the pause; a pause never resumed (the session
    stopped or crashed while paused) has nothing after it.
    """
    if isinstance(session_info, (str, Path)):
        from engine.audio.recorder import META_NAME

        path = Path(session_info)
        path = path / META_NAME if path.is_dir() else path
        try:
            session_info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise MinutesError(f"Cannot read the session '{path}': {e}.") from e
    meta = getattr(session_info, "meta", session_info)
    anchor_audio, anchor_wall = 0.0, float(meta.get("started") or 0.0)
    for p in sorted(meta.get("pauses") or [], key=lambda p: p["audio"]):
        if p["audio"] >= audio_seconds or p.get("wall_resumed") is None:
            break
        anchor_audio, anchor_wall = float(p["audio"]), float(p["wall_resumed"])
    return anchor_wall + (audio_seconds - anchor_audio)
