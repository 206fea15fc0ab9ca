"""Undo commands: every edit of the transcript is one of these on the editor's QUndoStack.

Each command keeps what it needs to go both ways and changes the transcript only through the
:class:`~ui.transcript.models.TranscriptDocument`, so the views follow. Typing in one segment is
merged into one step: text commands of one editing session (one open editor) share an id and
``mergeWith`` folds them together.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from engine.transcript import Speaker
from ui.transcript.edits import (
    join_segments,
    realign_words,
    reassign_turns,
    rename_speaker_turns,
    split_segment,
)
from ui.transcript.models import TranscriptDocument

EDIT_TEXT_ID = 1001


class EditTextCommand(QUndoCommand):
    """New text for one segment; its words re-aligned (see ``edits.realign_words``)."""

    def __init__(self, doc: TranscriptDocument, row: int, text: str, session: int = 0) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Edit text"))
        seg = doc.transcript.segments[row]
        self.doc, self.row, self.session = doc, row, session
        self.old_text, self.old_words = seg.text, list(seg.words)
        self.span = (seg.start, seg.end)
        self._set_new(text)

    def _set_new(self, text: str) -> None:
        self.new_text = text
        self.new_words = realign_words(self.old_words, text, *self.span, self.doc.language)

    def id(self) -> int:
        return EDIT_TEXT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditTextCommand) or other.row != self.row or other.session != self.session:
            return False
        # Words from the text before the whole session, not from the previous keystroke.
        self._set_new(other.new_text)
        if self.new_text == self.old_text:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.doc.set_text(self.row, self.new_text, self.new_words)

    def undo(self) -> None:
        self.doc.set_text(self.row, self.old_text, self.old_words)


class RenameSpeakerCommand(QUndoCommand):
    def __init__(self, doc: TranscriptDocument, speaker_id: str, name: str) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Rename speaker to “{name}”").format(name=name))
        self.doc = doc
        self.old = list(doc.transcript.speakers)
        new = [replace(s, name=name) if s.id == speaker_id else s for s in self.old]
        if all(s.id != speaker_id for s in new):
            new.append(Speaker(speaker_id, name))
        self.new = new

    def redo(self) -> None:
        self.doc.set_speakers(self.new)

    def undo(self) -> None:
        self.doc.set_speakers(self.old)


class MergeSpeakersCommand(QUndoCommand):
    """``drop`` becomes ``keep``: in segments, in the diarization turns, out of the list."""

    def __init__(self, doc: TranscriptDocument, keep: str, drop: str) -> None:
        super().__init__(
            QCoreApplication.translate("TranscriptEditor", "Merge “{drop}” into “{keep}”").format(
                drop=doc.speaker_name(drop), keep=doc.speaker_name(keep)
            )
        )
        t = doc.transcript
        self.doc, self.keep, self.drop = doc, keep, drop
        self.rows = [i for i, s in enumerate(t.segments) if s.speaker == drop]
        self.old_speakers = list(t.speakers)
        self.old_turns = list(t.turns)
        self.new_turns = rename_speaker_turns(t.turns, drop, keep) if t.turns else []
        self.new_speakers = [s for s in t.speakers if s.id != drop]

    def redo(self) -> None:
        self.doc.set_turns(self.new_turns)
        self.doc.set_segment_speakers({r: self.keep for r in self.rows})
        self.doc.set_speakers(self.new_speakers)

    def undo(self) -> None:
        self.doc.set_speakers(self.old_speakers)
        self.doc.set_segment_speakers({r: self.drop for r in self.rows})
        self.doc.set_turns(self.old_turns)


class ReassignCommand(QUndoCommand):
    """Segments given to another (or a new) speaker; the turns over them follow."""

    def __init__(self, doc: TranscriptDocument, rows: list[int], speaker_id: str, new_speaker: Speaker | None = None):
        name = new_speaker.name if new_speaker else doc.speaker_name(speaker_id)
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Assign to “{name}”").format(name=name))
        t = doc.transcript
        self.doc, self.speaker_id = doc, speaker_id
        self.old = {r: t.segments[r].speaker for r in rows}
        self.old_turns = list(t.turns)
        turns = list(t.turns)
        if turns:
            for r in rows:
                s = t.segments[r]
                turns = reassign_turns(turns, s.start, s.end, speaker_id, s.speaker)
        self.new_turns = turns
        self.old_speakers = list(t.speakers)
        self.new_speakers = self.old_speakers + [new_speaker] if new_speaker else None

    def redo(self) -> None:
        if self.new_speakers is not None:
            self.doc.set_speakers(self.new_speakers)
        self.doc.set_turns(self.new_turns)
        self.doc.set_segment_speakers({r: self.speaker_id for r in self.old})

    def undo(self) -> None:
        self.doc.set_segment_speakers(dict(self.old))
        self.doc.set_turns(self.old_turns)
        if self.new_speakers is not None:
            self.doc.set_speakers(self.old_speakers)


class SplitCommand(QUndoCommand):
    def __init__(self, doc: TranscriptDocument, row: int, offset: int) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Split segment"))
        self.doc, self.row = doc, row
        self.old = doc.transcript.segments[row]
        self.parts = split_segment(self.old, offset, doc.language)

    @property
    def valid(self) -> bool:
        return self.parts is not None

    def redo(self) -> None:
        self.doc.replace_segments(self.row, 1, list(self.parts))

    def undo(self) -> None:
        self.doc.replace_segments(self.row, 2, [self.old])


class JoinCommand(QUndoCommand):
    """A segment and the next as one, with the first one's speaker."""

    def __init__(self, doc: TranscriptDocument, row: int) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Join segments"))
        t = doc.transcript
        self.doc, self.row = doc, row
        self.a, self.b = t.segments[row], t.segments[row + 1]
        self.joined = join_segments(self.a, self.b, doc.language)
        self.old_turns = list(t.turns)
        self.new_turns = (
            reassign_turns(t.turns, self.b.start, self.b.end, self.a.speaker, self.b.speaker)
            if t.turns and self.a.speaker != self.b.speaker
            else None
        )

    def redo(self) -> None:
        self.doc.replace_segments(self.row, 2, [self.joined])
        if self.new_turns is not None:
            self.doc.set_turns(self.new_turns)
        self.doc.speakers.recompute_times()

    def undo(self) -> None:
        self.doc.replace_segments(self.row, 1, [self.a, self.b])
        if self.new_turns is not None:
            self.doc.set_turns(self.old_turns)
        self.doc.speakers.recompute_times()


class RenameChapterCommand(QUndoCommand):
    def __init__(self, doc: TranscriptDocument, index: int, title: str) -> None:
        super().__init__(
            QCoreApplication.translate("TranscriptEditor", "Rename chapter to “{title}”").format(title=title)
        )
        self.doc = doc
        self.old = list(doc.transcript.chapters)
        self.new = [replace(c, title=title) if i == index else c for i, c in enumerate(self.old)]

    def redo(self) -> None:
        self.doc.set_chapters(self.new)

    def undo(self) -> None:
        self.doc.set_chapters(self.old)


class MoveChapterStartCommand(QUndoCommand):
    """Chapter ``index`` starts at ``t``; the chapter before it ends there."""

    def __init__(self, doc: TranscriptDocument, index: int, t: float) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Move chapter boundary"))
        self.doc = doc
        self.old = list(doc.transcript.chapters)
        new = list(self.old)
        new[index] = replace(new[index], start=t)
        if index > 0:
            new[index - 1] = replace(new[index - 1], end=t)
        self.new = new

    def redo(self) -> None:
        self.doc.set_chapters(self.new)

    def undo(self) -> None:
        self.doc.set_chapters(self.old)


class RelinkAudioCommand(QUndoCommand):
    def __init__(self, doc: TranscriptDocument, path: str, on_change) -> None:
        super().__init__(QCoreApplication.translate("TranscriptEditor", "Relink audio"))
        self.doc, self.new, self.old = doc, path, doc.transcript.audio.path
        self.on_change = on_change

    def redo(self) -> None:
        self.doc.set_audio_path(self.new)
        self.on_change(self.new)

    def undo(self) -> None:
        self.doc.set_audio_path(self.old)
        self.on_change(self.old)
