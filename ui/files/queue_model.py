"""The file queue as an item model: one row per dropped recording, its state and progress.

The model holds only what the view shows; the app's file-job controller updates it from the
child process's events. Columns: file, status (with the stage or the error), progress, time
left. Progress is a fraction in ``ProgressRole`` for the delegate that draws the bar.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

ProgressRole = Qt.ItemDataRole.UserRole + 1
StateRole = Qt.ItemDataRole.UserRole + 2
JobIdRole = Qt.ItemDataRole.UserRole + 3

QUEUED, RUNNING, DONE, ERROR, CANCELLED = "queued", "running", "done", "error", "cancelled"
FINISHED = (DONE, ERROR, CANCELLED)


@dataclass
class JobOptions:
    """What a user can set per job in the Files view."""

    language: str = ""  # "" = detect
    speakers: int = 0  # 0 = automatic
    agenda: str = ""
    hotwords: str = ""
    model: str = "base"


@dataclass
class JobRow:
    job_id: str
    path: str
    options: JobOptions = field(default_factory=JobOptions)
    state: str = QUEUED
    stage: str = ""
    fraction: float = 0.0
    message: str = ""
    started: float | None = None  # time.monotonic() when it began running
    finished: float | None = None
    meeting_id: str | None = None  # the library entry of a finished job
    written: list[str] = field(default_factory=list)  # files auto-exported beside the source

    @property
    def name(self) -> str:
        return Path(self.path).name

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace so far (None until there is a pace to go by)."""
        if self.state != RUNNING or self.started is None or self.fraction < 0.03:
            return None
        elapsed = (now or time.monotonic()) - self.started
        return max(0.0, elapsed * (1.0 - self.fraction) / self.fraction)


def _tr(text: str) -> str:
    """A string marked with QT_TRANSLATE_NOOP("JobQueueModel", ...) where it is defined."""
    return QCoreApplication.translate("JobQueueModel", text)


def format_seconds(seconds: float) -> str:
    s = max(0, round(seconds))
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class JobQueueModel(QAbstractTableModel):
    COLUMNS = (
        QT_TRANSLATE_NOOP("JobQueueModel", "File"),
        QT_TRANSLATE_NOOP("JobQueueModel", "Status"),
        QT_TRANSLATE_NOOP("JobQueueModel", "Progress"),
        QT_TRANSLATE_NOOP("JobQueueModel", "Time left"),
    )
    FILE, STATUS, PROGRESS, ETA = range(4)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[JobRow] = []

    # -- Qt model --------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            if 0 <= section < len(self.COLUMNS):
                return _tr(self.COLUMNS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == JobIdRole:
            return row.job_id
        if role == StateRole:
            return row.state
        if role == ProgressRole:
            return 1.0 if row.state == DONE else row.fraction
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.FILE:
                return row.name
            if col == self.STATUS:
                return self.status_text(row)
            if col == self.PROGRESS:
                return f"{round(100 * (1.0 if row.state == DONE else row.fraction))} %"
            if col == self.ETA:
                eta = row.eta()
                return format_seconds(eta) if eta is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.FILE:
                return row.path
            if col == self.STATUS and row.message:
                return row.message
        return None

    @staticmethod
    def status_text(row: JobRow) -> str:
        if row.state == QUEUED:
            return QCoreApplication.translate("JobQueueModel", "Waiting")
        if row.state == RUNNING:
            return row.stage or QCoreApplication.translate("JobQueueModel", "Starting")
        if row.state == DONE:
            return QCoreApplication.translate("JobQueueModel", "Done")
        if row.state == CANCELLED:
            return QCoreApplication.translate("JobQueueModel", "Cancelled")
        return (
            QCoreApplication.translate("JobQueueModel", "Error: {0}").format(row.message)
            if row.message
            else QCoreApplication.translate("JobQueueModel", "Error")
        )

    # -- rows ------------------------------------------------------------------------------------
    @property
    def rows(self) -> list[JobRow]:
        return list(self._rows)

    def add(self, row: JobRow) -> None:
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(row)
        self.endInsertRows()

    def remove(self, job_id: str) -> None:
        i = self._index_of(job_id)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self._rows[i]
        self.endRemoveRows()

    def get(self, job_id: str) -> JobRow | None:
        i = self._index_of(job_id)
        return None if i is None else self._rows[i]

    def update(self, job_id: str, **changes) -> None:
        i = self._index_of(job_id)
        if i is None:
            return
        row = self._rows[i]
        for k, v in changes.items():
            setattr(row, k, v)
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))

    def next_queued(self) -> JobRow | None:
        return next((r for r in self._rows if r.state == QUEUED), None)

    def refresh_eta(self) -> None:
        """Time left moves with the clock, not only with events."""
        for i, r in enumerate(self._rows):
            if r.state == RUNNING:
                self.dataChanged.emit(self.index(i, self.ETA), self.index(i, self.ETA))

    def _index_of(self, job_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.job_id == job_id), None)
