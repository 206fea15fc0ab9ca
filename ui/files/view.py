"""The Files view: drop recordings (or Open…), a queue with progress, options for new jobs.

Dumb on purpose: it shows the queue model and says what the user asked for (signals); the
app's controller runs the jobs. Options set here go to the jobs added next and to selected
jobs still waiting.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QModelIndex, QRect, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedLayout,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.files.queue_model import ERROR, FINISHED, QUEUED, RUNNING, JobIdRole, JobOptions, JobQueueModel, ProgressRole

LANGUAGES = (
    ("", QT_TRANSLATE_NOOP("FilesView", "Detect")),
    ("en", QT_TRANSLATE_NOOP("FilesView", "English")),
    ("zh", QT_TRANSLATE_NOOP("FilesView", "Chinese")),
    ("de", QT_TRANSLATE_NOOP("FilesView", "German")),
    ("fr", QT_TRANSLATE_NOOP("FilesView", "French")),
    ("es", QT_TRANSLATE_NOOP("FilesView", "Spanish")),
    ("ja", QT_TRANSLATE_NOOP("FilesView", "Japanese")),
    ("ru", QT_TRANSLATE_NOOP("FilesView", "Russian")),
    ("pt", QT_TRANSLATE_NOOP("FilesView", "Portuguese")),
    ("it", QT_TRANSLATE_NOOP("FilesView", "Italian")),
)


class ProgressDelegate(QStyledItemDelegate):
    """A progress bar in the Progress column, drawn by the style (follows the theme)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if index.column() != JobQueueModel.PROGRESS:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(2, 3, -2, -3))
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = round(1000 * float(index.data(ProgressRole) or 0.0))
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class FilesView(QWidget):
    files_dropped = Signal(list)  # paths (files or folders) the user added
    cancel_requested = Signal(str)
    retry_requested = Signal(str)
    remove_requested = Signal(str)
    open_requested = Signal(str)  # a finished job's transcript
    options_changed = Signal(object)  # JobOptions for new jobs (and selected waiting ones)
    auto_export_changed = Signal(bool)

    def __init__(self, model: JobQueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setItemDelegate(ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # long errors are elided; the tooltip has them whole
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(JobQueueModel.FILE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(JobQueueModel.STATUS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(JobQueueModel.PROGRESS, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(JobQueueModel.ETA, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(JobQueueModel.PROGRESS, self.fontMetrics().horizontalAdvance("0" * 18))
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        model.dataChanged.connect(self._update_buttons)
        model.rowsInserted.connect(self._update_empty)
        model.rowsRemoved.connect(self._update_empty)

        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setText(
            self.tr(
                "<h3>Drop recordings here</h3><p>Audio or video files, or whole folders, anywhere on the window"
                " — or use <b>Open…</b> (Ctrl+O).</p><p>Each file is transcribed with speakers and chapters,"
                " then opens in the editor.</p>"
            )
        )
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        self.open_button = QPushButton(self.tr("Open…"), self)
        self.open_button.clicked.connect(self.choose_files)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(lambda: self._for_selected(self.cancel_requested, (QUEUED, RUNNING)))
        self.retry_button = QPushButton(self.tr("Retry"), self)
        self.retry_button.clicked.connect(lambda: self._for_selected(self.retry_requested, (ERROR, "cancelled")))
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.clicked.connect(lambda: self._for_selected(self.remove_requested, None))
        self.open_result_button = QPushButton(self.tr("Open transcript"), self)
        self.open_result_button.clicked.connect(lambda: self._for_selected(self.open_requested, ("done",)))
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        for b in (self.open_result_button, self.retry_button, self.cancel_button, self.remove_button):
            buttons.addWidget(b)

        self.options_box = self._options_panel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.options_box)
        layout.addLayout(self.stack, 1)
        layout.addLayout(buttons)

        self.remove_action = QAction(self.tr("Remove from queue"), self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_button.click)
        self.addAction(self.remove_action)
        self._update_empty()
        self._update_buttons()

    # -- options ---------------------------------------------------------------------------------
    def _options_panel(self) -> QGroupBox:
        box = QGroupBox(self.tr("Options for new files"), self)
        self.language = QComboBox(box)
        for code, name in LANGUAGES:
            self.language.addItem(self.tr(name), code)
        self.speakers = QComboBox(box)
        self.speakers.addItem(self.tr("Automatic"), 0)
        for n in range(1, 9):
            self.speakers.addItem(str(n), n)
        self.agenda = QLineEdit(box)
        self.agenda.setPlaceholderText(self.tr("Agenda for chapters: budget; hiring, candidates; roadmap"))
        self.hotwords = QLineEdit(box)
        self.hotwords.setPlaceholderText(self.tr("Names and terms to spell right"))
        self.model_box = QComboBox(box)
        self.model_box.addItem(self.tr("Whisper base (built in)"), "base")
        self.auto_export = QCheckBox(self.tr("Save Word and subtitle files beside each recording"), box)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        row = QHBoxLayout()
        row.addWidget(self.language, 1)
        speakers_label = QLabel(self.tr("Speakers:"), box)
        speakers_label.setBuddy(self.speakers)
        row.addWidget(speakers_label)
        row.addWidget(self.speakers, 1)
        model_label = QLabel(self.tr("Model:"), box)
        model_label.setBuddy(self.model_box)
        row.addWidget(model_label)
        row.addWidget(self.model_box, 2)
        language_label = QLabel(self.tr("&Language:"), box)
        language_label.setBuddy(self.language)
        form.addRow(language_label, row)
        form.addRow(self.tr("&Agenda:"), self.agenda)
        form.addRow(self.tr("&Hotwords:"), self.hotwords)
        form.addRow("", self.auto_export)
        for w in (self.language, self.speakers, self.model_box):
            w.currentIndexChanged.connect(self._emit_options)
        for w in (self.agenda, self.hotwords):
            w.editingFinished.connect(self._emit_options)
        self.auto_export.toggled.connect(self.auto_export_changed)
        return box

    def options(self) -> JobOptions:
        return JobOptions(
            language=self.language.currentData() or "",
            speakers=int(self.speakers.currentData() or 0),
            agenda=self.agenda.text().strip(),
            hotwords=self.hotwords.text().strip(),
            model=self.model_box.currentData() or "base",
        )

    def set_options(self, options: JobOptions, auto_export: bool | None = None) -> None:
        widgets = (self.language, self.speakers, self.model_box, self.agenda, self.hotwords)
        for w in widgets:
            w.blockSignals(True)
        self.language.setCurrentIndex(max(0, self.language.findData(options.language)))
        self.speakers.setCurrentIndex(max(0, self.speakers.findData(options.speakers)))
        i = self.model_box.findData(options.model)
        self.model_box.setCurrentIndex(max(0, i))
        self.agenda.setText(options.agenda)
        self.hotwords.setText(options.hotwords)
        for w in widgets:
            w.blockSignals(False)
        if auto_export is not None:
            self.auto_export.setChecked(auto_export)

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(value, label) pairs: the built-in model and the fine-tuned ones."""
        current = self.model_box.currentData()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for value, label in models:
            self.model_box.addItem(label, value)
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(current)))
        self.model_box.blockSignals(False)

    @Slot()
    def _emit_options(self) -> None:
        self.options_changed.emit(self.options())

    # -- queue actions ---------------------------------------------------------------------------
    @Slot()
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Open recordings"),
            "",
            self.tr(
                "Audio and video (*.wav *.flac *.ogg *.opus *.mp3 *.m4a *.aac *.wma *.mp4 *.mkv *.webm *.mov);;"
                "All files (*)"
            ),  # fmt: skip
        )
        if paths:
            self.files_dropped.emit(paths)

    def selected_jobs(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.index(r, 0).data(JobIdRole) for r in rows]

    def _for_selected(self, signal, states: tuple[str, ...] | None) -> None:
        for job_id in self.selected_jobs():
            row = self.model.get(job_id)
            if row is not None and (states is None or row.state in states):
                signal.emit(job_id)

    @Slot(QModelIndex)
    def _on_double_click(self, index: QModelIndex) -> None:
        job_id = index.data(JobIdRole)
        row = self.model.get(job_id)
        if row is not None and row.state == "done":
            self.open_requested.emit(job_id)

    @Slot()
    def _update_buttons(self, *args) -> None:
        rows = [self.model.get(j) for j in self.selected_jobs()]
        states = {r.state for r in rows if r is not None}
        self.cancel_button.setEnabled(bool(states & {QUEUED, RUNNING}))
        self.retry_button.setEnabled(bool(states & {ERROR, "cancelled"}))
        self.remove_button.setEnabled(bool(states))
        self.open_result_button.setEnabled("done" in states)

    @Slot()
    def _update_empty(self, *args) -> None:
        self.stack.setCurrentWidget(self.table if self.model.rowCount() else self.empty)

    def running_or_waiting(self) -> int:
        return sum(1 for r in self.model.rows if r.state not in FINISHED)

    def has_running(self) -> bool:
        return any(r.state == RUNNING for r in self.model.rows)
