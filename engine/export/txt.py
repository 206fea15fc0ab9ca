"""Plain-text export, plus the text helpers the subtitle writers share.

A reader wants paragraphs, not a log: consecutive segments of one speaker become one
paragraph introduced by the speaker's name, and timestamps appear only when asked for.
"""

from __future__ import annotations

import unicodedata

from engine.text import join_text
from engine.transcript import Segment, Transcript


def text_width(text: str) -> int:
    """Columns the text takes on screen: wide (CJK) characters count double, as they look."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clock(seconds: float) -> str:
    """HH:MM:SS, the resolution a reader can use to find a passage in the recording."""
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def speaker_names(transcript: Transcript) -> dict[str, str]:
    """Speaker id -> display name; ids missing from the list fall back to the id itself."""
    return {s.id: s.name for s in transcript.speakers}


def render(transcript: Transcript, timestamps: bool = False) -> str:
    """Plain text, one paragraph per segment or per speaker turn when speakers are known."""
    names = speaker_names(transcript)
    diarized = any(s.speaker is not None for s in transcript.segments)
    paragraphs: list[tuple[Segment, str]] = []  # (first segment of the paragraph, text)
    for seg in transcript.segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        if diarized and paragraphs and seg.speaker is not None and paragraphs[-1][0].speaker == seg.speaker:
            first, prev = paragraphs[-1]
            paragraphs[-1] = (first, join_text(prev, text))
        else:
            paragraphs.append((seg, text))
    out = []
    for first, text in paragraphs:
        head = []
        if timestamps:
            head.append(f"[{clock(first.start)}]")
        if first.speaker is not None:
            head.append(f"{names.get(first.speaker, first.speaker)}:")
        out.append(" ".join([*head, text]))
    return "\n\n".join(out) + "\n" if out else ""
