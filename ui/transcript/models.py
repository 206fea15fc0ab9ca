"""The transcript being edited (:class:`TranscriptDocument`) and the item models over it.

Every change goes through the document's methods, which the undo commands call; the document
tells the models (segments, speakers with talk time, chapters) so views stay in step. The
models never change the transcript on their own: an edit made in a view (a speaker's name typed
in the table, a chapter title) becomes an undo command through ``document.edit_requested``.
"""

from __future__ import annotations

from bisect import bisect_right

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont

from engine.speaker_colors import speaker_color
from engine.transcript import Chapter, Segment, Speaker, SpeakerTurn, Transcript
from ui.transcript.edits import format_time, speaker_name, talk_times

# Custom roles of the segment model.
SegmentRole = Qt.ItemDataRole.UserRole + 1  # the Segment object
SpeakerIdRole = Qt.ItemDataRole.UserRole + 2
SpeakerNameRole = Qt.ItemDataRole.UserRole + 3
StartRole = Qt.ItemDataRole.UserRole + 4
EndRole = Qt.ItemDataRole.UserRole + 5
PlayingRole = Qt.ItemDataRole.UserRole + 6  # this segment is being heard
PlayingWordRole = Qt.ItemDataRole.UserRole + 7  # index of the word being heard, or -1
ChapterStartRole = Qt.ItemDataRole.UserRole + 8  # index of the chapter that starts here, or -1
SpeakerColorRole = Qt.ItemDataRole.UserRole + 9  # QColor, light or dark palette as the view says


SPEAKER_ROLES = [SpeakerIdRole, SpeakerNameRole, SpeakerColorRole, Qt.ItemDataRole.ToolTipRole]


class TranscriptDocument(QObject):
    """Owns the Transcript under edit; every mutation is a method here."""

    changed = Signal()  # any edit (text, speakers, chapters, turns, audio path)
    speakers_changed = Signal()
    chapters_changed = Signal()
    turns_changed = Signal()
    # A view asks for an edit; the editor turns it into an undo command.
    rename_speaker_requested = Signal(str, str)
    rename_chapter_requested = Signal(int, str)
    text_edit_requested = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.transcript = Transcript.from_dict(
            {"audio": {"path": "", "duration": 0.0}, "model": {"name": "", "precision": "", "device": ""}}
        )
        self.dark = False
        self.segments = SegmentListModel(self)
        self.speakers = SpeakerTableModel(self)
        self.chapters = ChapterListModel(self)
        self._starts: list[float] | None = None
        self._ids: list[str] | None = None
        self._colors: dict[str, QColor] = {}

    # ------------------------------------------------------------------ reading

    @property
    def language(self) -> str | None:
        return self.transcript.language

    def speaker_name(self, speaker_id: str | None) -> str:
        return speaker_name(self.transcript.speakers, speaker_id)

    def speaker_ids(self) -> list[str]:
        """Speakers in list order, then any id used by a segment but missing from the list."""
        if self._ids is None:
            ids = [s.id for s in self.transcript.speakers]
            known = set(ids)
            for s in self.transcript.segments:
                if s.speaker is not None and s.speaker not in known:
                    ids.append(s.speaker)
                    known.add(s.speaker)
            self._ids = ids
            self._colors = {}
        return list(self._ids)

    def color(self, speaker_id: str | None) -> QColor:
        if speaker_id is None:
            return QColor()
        ids = self.speaker_ids()
        c = self._colors.get(speaker_id)
        if c is None:
            fallback = ids.index(speaker_id) if speaker_id in ids else 0
            c = self._colors[speaker_id] = QColor("#" + speaker_color(speaker_id, dark=self.dark, fallback=fallback))
        return QColor(c)

    def _speakers_touched(self) -> None:
        self._ids = None
        self._colors = {}

    def segment_at(self, t: float) -> int:
        """Row of the last segment starting at or before ``t`` (-1 before the first)."""
        if self._starts is None:
            self._starts = [s.start for s in self.transcript.segments]
        return bisect_right(self._starts, t) - 1

    def chapter_at(self, t: float) -> int:
        ch = self.transcript.chapters
        for i in range(len(ch) - 1, -1, -1):
            if ch[i].start <= t + 1e-6:
                return i
        return -1 if not ch else 0

    # ------------------------------------------------------------------ mutation

    def set_transcript(self, transcript: Transcript) -> None:
        self.segments.beginResetModel()
        self.speakers.beginResetModel()
        self.chapters.beginResetModel()
        self.transcript = transcript
        self._starts = None
        self._speakers_touched()
        self.segments.reset_state()
        self.speakers.recompute()
        self.chapters.endResetModel()
        self.speakers.endResetModel()
        self.segments.endResetModel()
        self.speakers_changed.emit()
        self.chapters_changed.emit()
        self.turns_changed.emit()

    def set_dark(self, dark: bool) -> None:
        if dark != self.dark:
            self.dark = dark
            self._colors = {}
            self.segments.refresh_all([SpeakerColorRole])
            self.speakers.refresh_all()

    def set_text(self, row: int, text: str, words) -> None:
        seg = self.transcript.segments[row]
        seg.text = text
        seg.words = list(words)
        self.segments.row_changed(row)
        self.changed.emit()

    def replace_segments(self, row: int, count: int, new: list[Segment]) -> None:
        """Segments row..row+count-1 become ``new`` (split: 1 -> 2, join: 2 -> 1)."""
        self._starts = None
        self._speakers_touched()
        self.segments.replace_rows(row, count, new)
        self._starts = None
        self.speakers.recompute_times()
        self.changed.emit()

    def set_segment_speakers(self, changes: dict[int, str | None]) -> None:
        for row, sid in changes.items():
            self.transcript.segments[row].speaker = sid
        self._speakers_touched()
        for row in changes:
            self.segments.row_changed(row, SPEAKER_ROLES)
        self.speakers.recompute_times()
        self.speakers_changed.emit()
        self.changed.emit()

    def set_speakers(self, speakers: list[Speaker]) -> None:
        self.speakers.beginResetModel()
        self.transcript.speakers = list(speakers)
        self._speakers_touched()
        self.speakers.recompute()
        self.speakers.endResetModel()
        self.segments.refresh_all(SPEAKER_ROLES)
        self.speakers_changed.emit()
        self.changed.emit()

    def set_turns(self, turns: list[SpeakerTurn]) -> None:
        self.transcript.turns = list(turns)
        self.speakers.recompute_times()
        self.turns_changed.emit()
        self.changed.emit()

    def set_chapters(self, chapters: list[Chapter]) -> None:
        self.chapters.beginResetModel()
        self.transcript.chapters = list(chapters)
        self.chapters.endResetModel()
        self.segments.refresh_all()
        self.chapters_changed.emit()
        self.changed.emit()

    def set_audio_path(self, path: str) -> None:
        self.transcript.audio.path = path
        self.changed.emit()


class SegmentListModel(QAbstractListModel):
    """One row per segment; the delegate paints time, speaker and text."""

    def __init__(self, doc: TranscriptDocument) -> None:
        super().__init__(doc)
        self.doc = doc
        self.playing_row = -1
        self.playing_word = -1
        self._chapter_starts: dict[int, int] | None = None

    def reset_state(self) -> None:
        self.playing_row = -1
        self.playing_word = -1
        self._chapter_starts = None

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.doc.transcript.segments)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def chapter_starts(self) -> dict[int, int]:
        """Row -> chapter index, for the first segment of each chapter."""
        if self._chapter_starts is None:
            out: dict[int, int] = {}
            for i, ch in enumerate(self.doc.transcript.chapters):
                row = max(0, self.doc.segment_at(ch.start + 1e-6))
                if row < self.rowCount() and self.doc.transcript.segments[row].start < ch.start - 1e-6:
                    row += 1  # the chapter starts between segments: mark the next one
                out.setdefault(row, i)
            self._chapter_starts = out
        return self._chapter_starts

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        seg = self.doc.transcript.segments[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return seg.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate("TranscriptEditor", "{speaker}, {start} to {end}").format(
                speaker=self.doc.speaker_name(seg.speaker)
                or QCoreApplication.translate("TranscriptEditor", "no speaker"),
                start=format_time(seg.start, True),
                end=format_time(seg.end, True),
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{self.doc.speaker_name(seg.speaker)} {format_time(seg.start)}: {seg.text}"
        if role == SegmentRole:
            return seg
        if role == SpeakerIdRole:
            return seg.speaker
        if role == SpeakerNameRole:
            return self.doc.speaker_name(seg.speaker)
        if role == SpeakerColorRole:
            return self.doc.color(seg.speaker)
        if role == StartRole:
            return float(seg.start)
        if role == EndRole:
            return float(seg.end)
        if role == PlayingRole:
            return index.row() == self.playing_row
        if role == PlayingWordRole:
            return self.playing_word if index.row() == self.playing_row else -1
        if role == ChapterStartRole:
            return self.chapter_starts().get(index.row(), -1)
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or not isinstance(value, str):
            return False
        if value == self.doc.transcript.segments[index.row()].text:
            return True
        self.doc.text_edit_requested.emit(index.row(), value)  # the editor pushes the command
        return True

    # the document's helpers

    def row_changed(self, row: int, roles: list[int] | None = None) -> None:
        ix = self.index(row, 0)
        self.dataChanged.emit(ix, ix, roles or [])

    def refresh_all(self, roles: list[int] | None = None) -> None:
        """Every row changed (``roles``: only these; the view then need not lay out again)."""
        if not roles or ChapterStartRole in roles:
            self._chapter_starts = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, 0), roles or [])

    def replace_rows(self, row: int, count: int, new: list[Segment]) -> None:
        segs = self.doc.transcript.segments
        self._chapter_starts = None
        self.playing_row = -1
        common = min(count, len(new))
        segs[row : row + common] = new[:common]
        if common:
            self.dataChanged.emit(self.index(row, 0), self.index(row + common - 1, 0))
        if count > common:
            self.beginRemoveRows(QModelIndex(), row + common, row + count - 1)
            del segs[row + common : row + count]
            self.endRemoveRows()
        elif len(new) > common:
            self.beginInsertRows(QModelIndex(), row + common, row + len(new) - 1)
            segs[row + common : row + common] = new[common:]
            self.endInsertRows()

    def set_playing(self, row: int, word: int) -> None:
        if row == self.playing_row and word == self.playing_word:
            return
        old = self.playing_row
        self.playing_row, self.playing_word = row, word
        for r in {old, row}:
            if 0 <= r < self.rowCount():
                self.row_changed(r, [PlayingRole, PlayingWordRole])


class SpeakerTableModel(QAbstractTableModel):
    """Speakers with their colour, talk time and share; the name is editable (renames)."""

    NAME, TIME, SHARE = range(3)

    def __init__(self, doc: TranscriptDocument) -> None:
        super().__init__(doc)
        self.doc = doc
        self._ids: list[str] = []
        self._times: dict[str, float] = {}

    def recompute(self) -> None:
        """Rows from the transcript (call between begin/endResetModel)."""
        self._ids = self.doc.speaker_ids()
        self._times = talk_times(self.doc.transcript)

    def recompute_times(self) -> None:
        ids = self.doc.speaker_ids()
        if ids != self._ids:
            self.beginResetModel()
            self.recompute()
            self.endResetModel()
            return
        self._times = talk_times(self.doc.transcript)
        if self._ids:
            self.dataChanged.emit(self.index(0, self.TIME), self.index(len(self._ids) - 1, self.SHARE))

    def refresh_all(self) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, self.SHARE))

    def speaker_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, speaker_id: str) -> int:
        return self._ids.index(speaker_id) if speaker_id in self._ids else -1

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == self.NAME:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            self.NAME: QCoreApplication.translate("TranscriptEditor", "Speaker"),
            self.TIME: QCoreApplication.translate("TranscriptEditor", "Talk time"),
            self.SHARE: QCoreApplication.translate("TranscriptEditor", "Share"),
        }.get(section)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        sid = self._ids[index.row()]
        col = index.column()
        total = sum(self._times.values()) or 1.0
        secs = self._times.get(sid, 0.0)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == self.NAME:
                return self.doc.speaker_name(sid)
            if col == self.TIME:
                return format_time(secs)
            if col == self.SHARE:
                return f"{100 * secs / total:.0f}%"
        if role == Qt.ItemDataRole.DecorationRole and col == self.NAME:
            return self.doc.color(sid)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.NAME:
            return self.doc.color(sid)
        if role == Qt.ItemDataRole.TextAlignmentRole and col != self.NAME:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate("TranscriptEditor", "{name} ({id}): {time} of talk").format(
                name=self.doc.speaker_name(sid), id=sid, time=format_time(secs, True)
            )
        if role == SpeakerIdRole:
            return sid
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or index.column() != self.NAME:
            return False
        name = str(value).strip()
        if not name:
            return False
        sid = self._ids[index.row()]
        if name != self.doc.speaker_name(sid):
            self.doc.rename_speaker_requested.emit(sid, name)
        return True


class ChapterListModel(QAbstractListModel):
    """Chapters: time and title; the title is editable (renames)."""

    def __init__(self, doc: TranscriptDocument) -> None:
        super().__init__(doc)
        self.doc = doc
        self.current = -1

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.doc.transcript.chapters)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        ch = self.doc.transcript.chapters[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{format_time(ch.start)}  {ch.title}"
        if role == Qt.ItemDataRole.EditRole:
            return ch.title
        if role == Qt.ItemDataRole.ToolTipRole:
            kw = ", ".join(ch.keywords)
            return QCoreApplication.translate("TranscriptEditor", "{start} to {end}").format(
                start=format_time(ch.start, True), end=format_time(ch.end, True)
            ) + ("\n" + kw if kw else "")
        if role == Qt.ItemDataRole.FontRole and index.row() == self.current:
            f = QFont()
            f.setBold(True)
            return f
        if role == StartRole:
            return float(ch.start)
        if role == EndRole:
            return float(ch.end)
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        title = str(value).strip()
        if not title:
            return False
        if title != self.doc.transcript.chapters[index.row()].title:
            self.doc.rename_chapter_requested.emit(index.row(), title)
        return True

    def refresh_all(self) -> None:
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, 0))

    def set_current(self, row: int) -> None:
        if row == self.current:
            return
        old, self.current = self.current, row
        for r in {old, row}:
            if 0 <= r < self.rowCount():
                ix = self.index(r, 0)
                self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.FontRole])
