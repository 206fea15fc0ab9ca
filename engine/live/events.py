"""What a live session tells its subscribers: event types, typed payloads and :class:`LiveEvent`.

Kept apart from the session so that a subscriber (the window, the CLI, the event log, a
test) can read events without importing capture or recognition. Nothing here imports Qt,
and events are plain dataclasses with a JSON form (:meth:`LiveEvent.to_dict`).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EVENT_TYPES = ("started", "partial", "confirmed", "segment", "speaker", "chapter", "level", "status", "stopped")


class _Named(str, enum.Enum):
    """A ``str`` enum that prints as its value."""

    def __str__(self) -> str:
        return self.value


# What a :class:`LiveEvent` is; a ``str``, so ``event.type == "confirmed"`` holds.
EventType = _Named("EventType", [(t.upper(), t) for t in EVENT_TYPES], module=__name__)


class SessionState(_Named):
    """The ``state`` of a ``status`` event (a ``str``: ``state == "paused"`` holds).

    From the input (engine/audio/capture.py, engine/live/file_source.py): ``capturing`` (audio is
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
class _LineWords:
    segment: int
    words: tuple[Word3, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"segment": self.segment, "words": [list(w) for w in self.words]}


@dataclass(frozen=True)
class PartialText(_LineWords):
    """Unconfirmed words of line ``segment``; the next partial replaces them."""


@dataclass(frozen=True)
class ConfirmedText(_LineWords):
    """Words of line ``segment`` fixed for good (appended to the line's earlier confirmed words)."""


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
    recording, which has no paused time: ``engine.live.wall_time.audio_to_wall``) the event
    covers; ``payload`` is the typed content (:class:`Status`, :class:`SegmentDone`, ...),
    ``data`` its dict form.
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
