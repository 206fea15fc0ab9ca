"""The main window: a sidebar of views, menus with shortcuts for everything, a status bar.

Views are given to it by the app (``add_view``); it knows none of their insides. Recordings
dropped anywhere on the window go to ``files_dropped`` (the Files view shows the queue).
The status bar says which device and model do the work and what job is running.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QProgressBar,
    QStackedWidget,
    QStyle,
    QWidget,
)

EXPORT_FORMATS = (
    ("docx", QT_TRANSLATE_NOOP("MainWindow", "Word document (.docx)")),
    ("srt", QT_TRANSLATE_NOOP("MainWindow", "Subtitles (.srt)")),
    ("vtt", QT_TRANSLATE_NOOP("MainWindow", "Web subtitles (.vtt)")),
    ("txt", QT_TRANSLATE_NOOP("MainWindow", "Plain text (.txt)")),
    ("json", QT_TRANSLATE_NOOP("MainWindow", "Transcript JSON (.json)")),
    ("rttm", QT_TRANSLATE_NOOP("MainWindow", "Who spoke when (.rttm)")),
)


class MainWindow(QMainWindow):
    files_dropped = Signal(list)
    export_requested = Signal(str)  # a format
    close_requested = Signal()  # the app decides (asks if a job runs), then calls really_close()
    view_changed = Signal(str)  # the key of the view now shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Minutes"))
        self.setAcceptDrops(True)
        self._closing = False
        self._views: dict[str, QWidget] = {}
        self._view_actions: dict[str, QAction] = {}

        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(self.fontMetrics().height() + 4, self.fontMetrics().height() + 4))
        self.sidebar.setSpacing(2)
        self.sidebar.currentRowChanged.connect(self._on_sidebar_row)
        self.stack = QStackedWidget(self)
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.device_label = QLabel(self)
        self.live_label = QLabel(self.tr("● Recording"), self)
        self.live_label.setStyleSheet("QLabel { color: #C62828; font-weight: bold; }")
        self.live_label.hide()
        self.job_label = QLabel(self)
        self.job_progress = QProgressBar(self)
        self.job_progress.setRange(0, 1000)
        self.job_progress.setMaximumWidth(self.fontMetrics().horizontalAdvance("0" * 20))
        self.job_progress.setTextVisible(False)
        self.job_progress.hide()
        self.statusBar().addWidget(self.job_label, 1)
        self.statusBar().addPermanentWidget(self.job_progress)
        self.statusBar().addPermanentWidget(self.live_label)
        self.statusBar().addPermanentWidget(self.device_label)

        self._build_menus()
        self.resize(self.fontMetrics().averageCharWidth() * 150, self.fontMetrics().height() * 42)

    # -- views -----------------------------------------------------------------------------------
    def add_view(self, key: str, widget: QWidget, title: str, icon: QIcon | None = None, shortcut: str = "") -> None:
        self._views[key] = widget
        self.stack.addWidget(widget)
        item = QListWidgetItem(icon or QIcon(), title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.sidebar.addItem(item)
        action = QAction(title, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False, k=key: self.show_view(k))
        self.view_menu.addAction(action)
        self._view_actions[key] = action
        self._fit_sidebar()

    def view(self, key: str) -> QWidget:
        return self._views[key]

    def current_view(self) -> str:
        item = self.sidebar.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    @Slot(str)
    def show_view(self, key: str) -> None:
        widget = self._views.get(key)
        if widget is None:
            return
        changed = self.stack.currentWidget() is not widget or self.current_view() != key
        self.stack.setCurrentWidget(widget)
        for row in range(self.sidebar.count()):
            if self.sidebar.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.sidebar.blockSignals(True)
                self.sidebar.setCurrentRow(row)
                self.sidebar.blockSignals(False)
        if changed:
            self.view_changed.emit(key)

    @Slot(int)
    def _on_sidebar_row(self, row: int) -> None:
        item = self.sidebar.item(row)
        if item is not None:
            self.show_view(item.data(Qt.ItemDataRole.UserRole))

    def _fit_sidebar(self) -> None:
        fm = self.sidebar.fontMetrics()
        items = [self.sidebar.item(i) for i in range(self.sidebar.count())]
        widest = max((fm.horizontalAdvance(item.text()) for item in items), default=0)
        self.sidebar.setFixedWidth(widest + self.sidebar.iconSize().width() + 6 * fm.averageCharWidth())

    def standard_icon(self, name: str) -> QIcon:
        return self.style().standardIcon(getattr(QStyle.StandardPixmap, name))

    # -- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu(self.tr("&File"))
        self.open_action = QAction(self.tr("&Open recordings…"), self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.file_menu.addAction(self.open_action)
        self.export_menu = QMenu(self.tr("&Export"), self)
        self.export_actions: dict[str, QAction] = {}
        for fmt, label in EXPORT_FORMATS:
            action = QAction(self.tr(label), self)
            action.triggered.connect(lambda _=False, f=fmt: self.export_requested.emit(f))
            self.export_menu.addAction(action)
            self.export_actions[fmt] = action
        self.export_actions["docx"].setShortcut(QKeySequence("Ctrl+E"))
        self.file_menu.addMenu(self.export_menu)
        self.set_export_enabled(False)
        self.file_menu.addSeparator()
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)
        self.edit_menu = bar.addMenu(self.tr("&Edit"))
        self.view_menu = bar.addMenu(self.tr("&View"))
        self.help_menu = bar.addMenu(self.tr("&Help"))
        self.about_action = QAction(self.tr("&About Minutes"), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.help_menu.addAction(self.about_action)

    def set_edit_actions(self, actions: list[QAction]) -> None:
        """The open transcript's actions (undo, redo, find, play…) in the Edit menu."""
        self.edit_menu.clear()
        for a in actions:
            if a is None:
                self.edit_menu.addSeparator()
            else:
                self.edit_menu.addAction(a)

    def set_export_enabled(self, enabled: bool) -> None:
        self.export_menu.setEnabled(enabled)

    # -- status bar ------------------------------------------------------------------------------
    def set_device(self, text: str) -> None:
        self.device_label.setText(text)

    def set_live(self, recording: bool) -> None:
        """A recording runs: say so whatever view is shown."""
        self.live_label.setVisible(recording)

    def set_job(self, text: str, fraction: float | None = None) -> None:
        self.job_label.setText(text)
        if fraction is None:
            self.job_progress.hide()
        else:
            self.job_progress.show()
            self.job_progress.setValue(round(1000 * max(0.0, min(1.0, fraction))))

    # -- drops and closing -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit([str(Path(p)) for p in paths])

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        event.ignore()
        self.close_requested.emit()

    def really_close(self) -> None:
        self._closing = True
        self.close()
