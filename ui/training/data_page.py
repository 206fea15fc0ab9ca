"""Training, step 1: what to train on. Sources in, the checker's report as a table, bad rows out
with one click, totals and the train/dev split, and the terms to watch."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _key(problem) -> int:
    """What excluding a problem leaves out: its utterance, or (a line that is none) the line itself."""
    return problem.index if problem.index is not None else -problem.line


class DataPage(QWidget):
    source_requested = Signal(str)  # a path for the app to import and check (off the GUI thread)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports: list = []  # app.training_data.SourceReport, in the order added
        self.excluded: set[tuple[int, int]] = set()  # (report, utterance index)
        self.meetings = QComboBox(self)
        self.add_meeting = QPushButton(self.tr("Add &meeting"), self)
        self.add_file = QPushButton(self.tr("Add &TSV or manifest…"), self)
        self.add_folder = QPushButton(self.tr("Add &folder…"), self)
        self.clear = QPushButton(self.tr("C&lear"), self)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Corrected meeting:"), self))
        row.addWidget(self.meetings, 1)
        for b in (self.add_meeting, self.add_file, self.add_folder, self.clear):
            row.addWidget(b)
        self.status = QLabel(self.tr("Add corrected meetings, a folder of audio with .txt files, a TSV or a manifest."))
        self.status.setWordWrap(True)
        self.problems = QTableWidget(0, 4, self)
        headers = [self.tr("Line"), self.tr("Problem"), self.tr("What to do"), self.tr("Source")]
        self.problems.setHorizontalHeaderLabels(headers)
        self.problems.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.problems.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.problems.verticalHeader().hide()
        self.exclude = QPushButton(self.tr("&Exclude bad rows"), self)
        self.exclude.setEnabled(False)
        self.totals = QLabel(self)
        self.dev_fraction = QDoubleSpinBox(self)
        self.dev_fraction.setRange(0.05, 0.5)
        self.dev_fraction.setSingleStep(0.05)
        self.dev_fraction.setValue(0.2)
        self.split_label = QLabel(self)
        self.terms = QLineEdit(self)
        self.terms.setPlaceholderText(self.tr("Names and products, separated by ;"))
        form = QFormLayout()
        form.addRow(self.tr("Totals:"), self.totals)
        form.addRow(self.tr("&Dev share:"), self.dev_fraction)
        form.addRow(self.tr("Split:"), self.split_label)
        form.addRow(self.tr("Te&rms to watch:"), self.terms)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(self.tr("Problems found by the checker:"), self))
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.exclude)
        layout.addLayout(form)
        self.add_meeting.clicked.connect(self._add_meeting)
        self.add_file.clicked.connect(self._add_file)
        self.add_folder.clicked.connect(self._add_folder)
        self.clear.clicked.connect(self.clear_sources)
        self.exclude.clicked.connect(self.exclude_bad_rows)
        self.dev_fraction.valueChanged.connect(self._refresh)
        self._refresh()

    def set_meetings(self, meetings: list[tuple[str, str]]) -> None:
        """(title, transcript JSON path) of the Library's meetings; the one picked stays picked."""
        picked = self.meetings.currentData()
        self.meetings.clear()
        for title, path in meetings:
            self.meetings.addItem(title, path)
        if picked is not None and (i := self.meetings.findData(picked)) >= 0:
            self.meetings.setCurrentIndex(i)

    @Slot()
    def _add_meeting(self) -> None:
        path = self.meetings.currentData()
        if path:
            self.request(path)

    @Slot()
    def _add_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Add data"), "", self.tr("Manifests and TSV (*.jsonl *.tsv *.txt *.json)")
        )
        if path:
            self.request(path)

    @Slot()
    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Folder of audio and .txt files"))
        if path:
            self.request(path)

    def request(self, path: str) -> None:
        self.status.setText(self.tr("Reading and checking {0}…").format(path))
        self.source_requested.emit(path)

    def add_report(self, report) -> None:
        """A checked source (app.training_data.SourceReport) joins the data."""
        self.reports.append(report)
        if report.terms:
            have = [t.strip() for t in self.terms.text().split(";") if t.strip()]
            self.terms.setText("; ".join(have + [t for t in report.terms if t not in have]))
        text = self.tr("{0}: {1} utterances, {2} problems.")
        self.status.setText(text.format(report.source, len(report.utterances), len(report.problems)))
        self._refresh()

    def source_failed(self, path: str, message: str) -> None:
        self.status.setText(self.tr("{0} cannot be used: {1}").format(path, message))

    @Slot()
    def clear_sources(self) -> None:
        self.reports.clear()
        self.excluded.clear()
        self._refresh()

    @Slot()
    def exclude_bad_rows(self) -> None:
        for r, report in enumerate(self.reports):
            self.excluded.update((r, _key(p)) for p in report.problems)
        self._refresh()

    def open_problems(self) -> list:
        return [p for r, rep in enumerate(self.reports) for p in rep.problems if (r, _key(p)) not in self.excluded]

    def left_out(self) -> int:
        """Rows left out: utterances and lines that were no utterance at all."""
        return len(self.excluded)

    def utterances(self) -> list:
        """Every utterance that is not left out."""
        return [
            u for r, rep in enumerate(self.reports) for i, u in enumerate(rep.utterances) if (r, i) not in self.excluded
        ]

    def split(self):
        from engine.training.manifest import split_manifest

        return split_manifest(self.utterances(), self.dev_fraction.value())

    @Slot()
    def _refresh(self) -> None:
        open_problems = self.open_problems()
        self.problems.setRowCount(len(open_problems))
        for row, p in enumerate(open_problems):
            for col, value in enumerate((str(p.line), p.problem, p.hint, p.source)):
                self.problems.setItem(row, col, QTableWidgetItem(value))
        self.exclude.setEnabled(bool(open_problems))
        utts = self.utterances()
        seconds = sum(u.duration for u in utts)
        speakers = len({u.speaker for u in utts if u.speaker})
        self.totals.setText(
            self.tr("{0} utterances, {1} min {2} s, {3} speakers ({4} rows left out)").format(
                len(utts), int(seconds // 60), int(seconds % 60), speakers, len(self.excluded)
            )
        )
        if len(utts) >= 2:
            s = self.split()
            self.split_label.setText(
                self.tr("train {0} utterances ({1:.0f} s), dev {2} ({3:.0f} s), {4}").format(
                    len(s.train),
                    sum(u.duration for u in s.train),
                    len(s.dev),
                    sum(u.duration for u in s.dev),
                    self.tr("by speaker") if s.by_speaker else self.tr("by utterance"),
                )  # fmt: skip
            )
        else:
            self.split_label.setText(self.tr("needs at least two utterances"))
        self.changed.emit()

    def ready(self) -> str:
        """Empty when the data can be trained on, else why not."""
        if self.open_problems():
            return self.tr("Some rows have problems: exclude them or fix the data first.")
        if len(self.utterances()) < 2:
            return self.tr("Add at least two utterances.")
        return ""
