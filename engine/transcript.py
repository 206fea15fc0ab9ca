"""The transcript data model and its JSON form (DESIGN.md, "The transcript JSON").

Every tool reads this: exporters, the editor, speaker and chapter stages. Field names
are a contract: add fields freely, never rename or drop one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.text import no_space

SCHEMA_VERSION = 1


def _num(x: Any, ndigits: int) -> float:
    # float() first: numpy scalars (float32 from the decoder) are not JSON serializable.
    return round(float(x), ndigits)


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    # The schema allows extra fields; a dataclass constructor would reject them.
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)
    # Decoder diagnostics (extra fields are allowed by the schema).
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None
    temperature: float | None = None


@dataclass
class Speaker:
    id: str
    name: str


@dataclass
class Chapter:
    start: float
    end: float
    title: str
    keywords: list[str] = field(default_factory=list)


@dataclass
class SpeakerTurn:
    """One stretch of one speaker's talk as the diarization found it, words or not.

    ``speaker`` is a segment speaker id ("S1", ...). Turns of different speakers may overlap
    (two people at once); RTTM is written from these, so speech between words is not lost.
    Tools that merge speakers by changing segment ids must change the turns' ids alike.
    """

    start: float
    end: float
    speaker: str


def segment_to_dict(s: Segment) -> dict[str, Any]:
    """One segment in the transcript JSON's form (also what a file job's child sends as it goes)."""
    seg: dict[str, Any] = {
        "start": _num(s.start, 3),
        "end": _num(s.end, 3),
        "speaker": s.speaker,
        "text": s.text,
        "words": [
            {"start": _num(w.start, 3), "end": _num(w.end, 3), "word": w.word, "probability": _num(w.probability, 4)}
            for w in s.words
        ],
    }
    for extra in ("avg_logprob", "compression_ratio", "no_speech_prob", "temperature"):
        v = getattr(s, extra)
        if v is not None:
            seg[extra] = _num(v, 4)
    return seg


def merge_turns(turns: list[SpeakerTurn], gap: float = 0.0) -> list[SpeakerTurn]:
    """``turns`` in start order, times on the millisecond grid the JSON keeps, with overlapping
    or touching turns of one speaker (at most ``gap`` s apart) made one; empty turns dropped.

    Rounding here, not only on writing, makes the RTTM written at once equal the one exported
    from the JSON later.
    """
    out: list[SpeakerTurn] = []
    last: dict[str, int] = {}  # speaker -> index of their latest turn in out
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        start, end = _num(t.start, 3), _num(t.end, 3)
        if end <= start:
            continue
        i = last.get(t.speaker)
        if i is not None and start - out[i].end <= gap + 1e-9:
            out[i].end = max(out[i].end, end)
            continue
        last[t.speaker] = len(out)
        out.append(SpeakerTurn(start, end, t.speaker))
    return out


def _turn(d: Any) -> SpeakerTurn | None:
    # A hand-edited turn that is not {start, end, speaker} is left out rather than failing the load.
    if not isinstance(d, dict) or not isinstance(d.get("speaker"), str):
        return None
    start, end = d.get("start"), d.get("end")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (start, end)):
        return None
    return SpeakerTurn(float(start), float(end), d["speaker"])


@dataclass
class AudioInfo:
    path: str
    duration: float
    sample_rate: int = 16000


@dataclass
class ModelInfo:
    name: str
    precision: str
    device: str


@dataclass
class Transcript:
    audio: AudioInfo
    language: str | None
    model: ModelInfo
    segments: list[Segment] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    version: int = SCHEMA_VERSION
    # The diarization itself (who speaks when, with overlap); empty: none kept (old JSON, no speakers).
    turns: list[SpeakerTurn] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All segment texts in order; no spaces between segments in Chinese/Japanese/Thai."""
        sep = "" if no_space(self.language) else " "
        return sep.join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self) -> dict[str, Any]:
        d = {
            "version": self.version,
            "audio": {
                "path": self.audio.path,
                "duration": _num(self.audio.duration, 3),
                "sample_rate": int(self.audio.sample_rate),
            },
            "language": self.language,
            "model": asdict(self.model),
            "speakers": [asdict(s) for s in self.speakers],
            "chapters": [{**asdict(c), "start": _num(c.start, 3), "end": _num(c.end, 3)} for c in self.chapters],
            "turns": [{"start": _num(t.start, 3), "end": _num(t.end, 3), "speaker": t.speaker} for t in self.turns],
            "segments": [],
        }
        d["segments"] = [segment_to_dict(s) for s in self.segments]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        segs = []
        for s in d.get("segments", []):
            words = [
                Word(**{k: w[k] for k in ("start", "end", "word") if k in w}, probability=w.get("probability", 1.0))
                for w in s.get("words", [])
            ]
            segs.append(
                Segment(
                    start=s["start"],
                    end=s["end"],
                    text=s["text"],
                    speaker=s.get("speaker"),
                    words=words,
                    avg_logprob=s.get("avg_logprob"),
                    compression_ratio=s.get("compression_ratio"),
                    no_speech_prob=s.get("no_speech_prob"),
                    temperature=s.get("temperature"),
                )
            )
        a = d["audio"]
        m = d["model"]
        turns = d.get("turns")
        return cls(
            audio=AudioInfo(path=a["path"], duration=a["duration"], sample_rate=a.get("sample_rate", 16000)),
            language=d.get("language"),
            model=ModelInfo(name=m["name"], precision=m["precision"], device=m["device"]),
            segments=segs,
            speakers=[Speaker(**_known(Speaker, s)) for s in d.get("speakers", [])],
            chapters=[Chapter(**_known(Chapter, c)) for c in d.get("chapters", [])],
            version=d.get("version", SCHEMA_VERSION),
            turns=[t for t in map(_turn, turns if isinstance(turns, list) else []) if t is not None],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
