"""The transcript editor (the window's Transcript view): see ui/transcript/editor.py."""

from ui.transcript.editor import TranscriptEditor

__all__ = ["TranscriptEditor"]
