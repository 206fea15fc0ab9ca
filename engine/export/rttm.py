"""RTTM export: who spoke when, in the NIST format diarization scorers read.

One ``SPEAKER`` line per speaker turn. The turns are the diarization's own
(``transcript.turns``): speech between and without words is there, and two people talking at
once give overlapping lines. A transcript without them (JSON from before they were kept) gets
turns rebuilt from its segments: consecutive segments of one speaker with a short gap between
them are one turn, as a human annotator would mark them.

Speakers are written as ids, so renaming a speaker does not change the RTTM.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.transcript import Transcript

MERGE_GAP = 0.5  # seconds of silence within one speaker's turn


def _uri(transcript: Transcript) -> str:
    # The file id may not contain spaces: the format is whitespace-separated.
    stem = Path(transcript.audio.path).stem or "audio"
    return re.sub(r"\s+", "_", stem)


def segment_turns(transcript: Transcript, merge_gap: float = MERGE_GAP) -> list[tuple[float, float, str]]:
    """Turns rebuilt from segments (start, end, speaker id), in time order; segments without a
    speaker are left out. Only for transcripts without diarization turns: it misses all speech
    no word covers."""
    out: list[tuple[float, float, str]] = []
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        if seg.speaker is None or seg.end <= seg.start:
            continue
        if out and out[-1][2] == seg.speaker and seg.start - out[-1][1] <= merge_gap:
            out[-1] = (out[-1][0], max(out[-1][1], seg.end), seg.speaker)
        else:
            out.append((seg.start, seg.end, seg.speaker))
    return out


def turns(transcript: Transcript) -> list[tuple[float, float, str]]:
    """(start, end, speaker id) per turn, in start order: the diarization's turns when the
    transcript has them, else turns rebuilt from segments."""
    if transcript.turns:
        return [(t.start, t.end, t.speaker) for t in sorted(transcript.turns, key=lambda t: (t.start, t.end))]
    return segment_turns(transcript)


def render(transcript: Transcript) -> str:
    """RTTM lines; speaker names are written as ids (names may contain spaces)."""
    uri = _uri(transcript)
    lines = []
    for start, end, spk in turns(transcript):
        # times on the millisecond grid the JSON keeps: the file re-exported from JSON is identical
        start, end = round(float(start), 3), round(float(end), 3)
        if end > start:
            lines.append(f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {spk} <NA> <NA>")
    return "\n".join(lines) + ("\n" if lines else "")
