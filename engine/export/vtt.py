"""WebVTT export: the cues of the SRT writer, for browsers and video players.

The speaker goes in a ``<v Name>`` voice tag rather than the visible text, so players can
style or show it, and it takes no room on the line.
"""

from __future__ import annotations

from engine.export.srt import build_cues, timestamp
from engine.transcript import Transcript


def _escape(text: str) -> str:
    """Cue text is markup: a literal '<' or '&' would start a tag or entity, '-->' ends timing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(transcript: Transcript) -> str:
    """WebVTT text; every cue of a known speaker is wrapped in a voice span, so a player that
    styles or names voices can do so for each cue, not only where the speaker changes."""
    blocks = ["WEBVTT"]
    for cue in build_cues(transcript, label_in_text=False):
        lines = [_escape(line) for line in cue.lines]
        if cue.speaker:
            lines[0] = f"<v {_escape(cue.speaker)}>{lines[0]}"
            lines[-1] += "</v>"
        blocks.append(f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}\n" + "\n".join(lines))
    return "\n\n".join(blocks) + "\n"
