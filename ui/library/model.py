"""Item models of the Library view: the meetings (newest first) and the search hits.

Plain lists of the library's ``Meeting`` and ``Hit`` records; the models never touch the disk.
Renaming a title in place (the edit role) changes the row and emits ``title_edited`` for the view
to save.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QAbstractListModel, QDate, QDateTime, QLocale, QModelIndex, QPersistentModelIndex, Qt, Signal

from engine.library import Hit, Meeting

_ROLE = Qt.ItemDataRole.UserRole
IdRole = _ROLE + 1  # str: the meeting id
ItemRole = _ROLE + 2  # the Meeting or Hit itself
DateRole = _ROLE + 3  # str: the meeting's date and time in the user's locale
DurationRole = _ROLE + 4  # str: "1:02:03" (meetings) / the hit's time "12:34"
SpeakersRole = _ROLE + 5  # str: "Anya, Speaker 2"
PreviewRole = _ROLE + 6  # str: first lines (meetings) / the snippet (hits)
MarksRole = _ROLE + 7  # list[tuple[int, int]]: matched spans in the snippet (hits)
TimeRole = _ROLE + 8  # float: seconds (hits: where the match is; meetings: the duration)
MissingRole = _ROLE + 9  # bool: the meeting's recording is not where it was


def clock(seconds: float) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss``."""
    s = max(0, int(round(seconds or 0)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


_Index = QModelIndex | QPersistentModelIndex


class MeetingListModel(QAbstractListModel):
    """The library's meetings, in the order given (the library lists them newest first)."""

    title_edited = Signal(str, str)  # meeting id, new title (after an in-place rename)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Meeting] = []
        self._dates: dict[str, str] = {}
        self._missing: dict[str, bool] = {}

    def default_title(self, m: Meeting) -> str:
        """What an untitled meeting is called in the list."""
        if m.source == "live":
            return self.tr("Live meeting")
        return self.tr("Untitled meeting")

    def title(self, m: Meeting) -> str:
        return m.title or self.default_title(m)

    # -- contents -----------------------------------------------------------------------------

    def set_meetings(self, meetings: list[Meeting]) -> None:
        self.beginResetModel()
        self._rows = list(meetings)
        self._dates = {}
        self._missing = {}
        self.endResetModel()

    def meetings(self) -> list[Meeting]:
        return list(self._rows)

    def meeting(self, row: int) -> Meeting | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, meeting_id: str) -> int:
        for i, m in enumerate(self._rows):
            if m.id == meeting_id:
                return i
        return -1

    def remove(self, meeting_id: str) -> bool:
        row = self.row_of(meeting_id)
        if row < 0:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()
        return True

    def replace(self, meeting: Meeting) -> None:
        """Show a changed meeting (e.g. after a rename) in its row."""
        row = self.row_of(meeting.id)
        if row < 0:
            return
        self._rows[row] = meeting
        self._missing.pop(meeting.id, None)
        ix = self.index(row, 0)
        self.dataChanged.emit(ix, ix)

    # -- QAbstractItemModel -------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def local_date(self, m: Meeting) -> str:
        """The meeting's time in the user's locale: "Today, 14:03", "Yesterday, 09:12", else the
        short date and time."""
        if not m.created:
            return ""
        dt = QDateTime.fromSecsSinceEpoch(int(m.created_at.timestamp()))
        locale = QLocale()
        time = locale.toString(dt.time(), QLocale.FormatType.ShortFormat)
        days = dt.date().daysTo(QDate.currentDate())
        if days == 0:
            return self.tr("Today, %1").replace("%1", time)
        if days == 1:
            return self.tr("Yesterday, %1").replace("%1", time)
        return locale.toString(dt, QLocale.FormatType.ShortFormat)

    def _date(self, m: Meeting) -> str:
        d = self._dates.get(m.id)
        if d is None:
            d = self._dates[m.id] = self.local_date(m)
        return d

    def _is_missing(self, m: Meeting) -> bool:
        missing = self._missing.get(m.id)
        if missing is None:  # one stat, once per row
            missing = self._missing[m.id] = bool(m.audio_path) and not m.audio_exists
        return missing

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or index.column() != 0:
            return None
        m = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.title(m)
        if role == Qt.ItemDataRole.EditRole:
            return m.title
        if role == IdRole:
            return m.id
        if role == ItemRole:
            return m
        if role == DateRole:
            return self._date(m)
        if role == DurationRole:
            return clock(m.duration)
        if role == TimeRole:
            return float(m.duration)
        if role == SpeakersRole:
            return ", ".join(m.speakers)
        if role == PreviewRole:
            return m.preview
        if role == MissingRole:
            return self._is_missing(m)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            parts = [self.title(m), self._date(m), clock(m.duration)]
            if m.speakers:
                parts.append(", ".join(m.speakers))
            if self._is_missing(m):
                parts.append(self.tr("The recording is missing: %1").replace("%1", m.audio_path))
            return " · ".join(parts)
        return None

    def setData(self, index: _Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return False
        title = " ".join(str(value).split())
        m = self._rows[index.row()]
        if title == m.title:
            return False
        self._rows[index.row()] = dataclasses.replace(m, title=title)
        self.dataChanged.emit(index, index)
        self.title_edited.emit(m.id, title)
        return True


class HitListModel(QAbstractListModel):
    """Search hits, in the library's order (newest meeting first, then by time)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Hit] = []
        self.query = ""
        self.titles: dict[str, str] = {}  # meeting id -> the title the meeting list shows
        self.previews: dict[str, str] = {}  # meeting id -> its first lines (shown for a title match)

    def set_hits(self, hits: list[Hit], query: str = "") -> None:
        self.beginResetModel()
        self._rows = list(hits)
        self.query = query
        self.endResetModel()

    def hit(self, row: int) -> Hit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def remove_meeting(self, meeting_id: str) -> None:
        """Drop the hits of a deleted meeting."""
        row = 0
        while row < len(self._rows):
            if self._rows[row].meeting_id != meeting_id:
                row += 1
                continue
            end = row
            while end + 1 < len(self._rows) and self._rows[end + 1].meeting_id == meeting_id:
                end += 1
            self.beginRemoveRows(QModelIndex(), row, end)
            del self._rows[row : end + 1]
            self.endRemoveRows()

    def rename_meeting(self, meeting_id: str, title: str) -> None:
        for row, h in enumerate(self._rows):
            if h.meeting_id == meeting_id:
                self._rows[row] = dataclasses.replace(h, title=title)
                ix = self.index(row, 0)
                self.dataChanged.emit(ix, ix)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def title(self, h: Hit) -> str:
        return h.title or self.titles.get(h.meeting_id, "")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or index.column() != 0:
            return None
        h = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.title(h)
        if role == IdRole:
            return h.meeting_id
        if role == ItemRole:
            return h
        if role == TimeRole:
            return float(h.start)
        if role == DurationRole:
            return self.tr("in the title") if h.in_title else clock(h.start)
        if role == SpeakersRole:
            return h.speaker or ""
        if role == PreviewRole:  # a title match shows the meeting's first lines instead of the title again
            return self.previews.get(h.meeting_id, "") if h.in_title else h.snippet
        if role == MarksRole:
            return [] if h.in_title else [list(m) for m in h.marks]
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            where = self.tr("in the title") if h.in_title else clock(h.start)
            return f"{self.title(h)} · {where} · {h.snippet}"
        return None
