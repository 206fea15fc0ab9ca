"""JSON export: the transcript's own schema (DESIGN.md), the one format that loses nothing."""

from __future__ import annotations

from engine.transcript import Transcript


def render(transcript: Transcript) -> str:
    """The transcript as JSON that ``Transcript.load`` reads back unchanged."""
    return transcript.to_json() + "\n"
