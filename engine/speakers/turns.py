"""Speaker labels from time spans: which turn holds a moment, which label covers most of a span.

Why an index: a meeting has thousands of turns and every word asks once; sorted starts and
the longest turn's length let a lookup bisect to the few turns that can reach it instead of
scanning them all. Used by the live session (labels from the live tracker's turns) and by
``engine.speakers.diarize.Diarization.speaker_at``.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from typing import Generic, TypeVar

from engine.transcript import Segment

Label = TypeVar("Label", bound=Hashable)


class Turns(Generic[Label]):
    """(start, end, label) turns sorted by time, so a lookup reads the few turns near it, not the meeting."""

    def __init__(self, turns: list[tuple[float, float, Label]]) -> None:
        self.turns = sorted(turns)
        self.starts = [t[0] for t in self.turns]
        self.longest = max((b - a for a, b, _ in self.turns), default=0.0)

    def near(self, start: float, end: float) -> list[tuple[float, float, Label]]:
        """Every turn that can overlap [start, end]."""
        lo = bisect.bisect_left(self.starts, start - self.longest)
        return self.turns[lo : bisect.bisect_right(self.starts, end)]

    def majority(self, start: float, end: float) -> Label | None:
        """The label that covers most of [start, end]; with none overlapping, the nearest turn's."""
        talk: dict[Label, float] = {}
        for a, b, label in self.near(start, end):
            ov = min(b, end) - max(a, start)
            if ov > 0:
                talk[label] = talk.get(label, 0.0) + ov
        if not talk:
            near = min(self.turns, key=lambda t: min(abs(t[0] - end), abs(t[1] - start)), default=None)
            return near[2] if near else None
        return max(talk, key=talk.get)

    def at(self, time: float) -> Label | None:
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
    from engine.speakers.assign import split_at_labels  # here: assign -> diarize -> this module

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
