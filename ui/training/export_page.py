"""Training, step 6: the fine-tuned models (the registry). Activate one for every new job, rename,
delete, and what each was trained on in one line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ExportPage(QWidget):
    activate_requested = Signal(str)
    rename_requested = Signal(str, str)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = QListWidget(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.active = QLabel(self)
        self.activate = QPushButton(self.tr("&Use for transcription"), self)
        self.rename = QPushButton(self.tr("Re&name…"), self)
        self.delete = QPushButton(self.tr("&Delete…"), self)
        buttons = QHBoxLayout()
        for b in (self.activate, self.rename, self.delete):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Fine-tuned models (exported to ONNX: fp32 and INT8):"), self))
        layout.addWidget(self.models, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.active)
        self.models.currentItemChanged.connect(self._selected)
        self.activate.clicked.connect(lambda: self.current() and self.activate_requested.emit(self.current()))
        self.rename.clicked.connect(self._rename)
        self.delete.clicked.connect(self._delete)
        self._selected()

    def current(self) -> str:
        item = self.models.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def set_models(self, models: list[tuple[str, str]], active: str) -> None:
        """(name, one-line summary) of every fine-tuned model, and the model new jobs use."""
        keep = self.current()
        self.models.clear()
        for name, summary in models:
            item = QListWidgetItem(name + ("  ✓" if name == active else ""))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setData(Qt.ItemDataRole.ToolTipRole, summary)
            item.setData(Qt.ItemDataRole.UserRole + 1, summary)
            self.models.addItem(item)
            if name == keep:
                self.models.setCurrentItem(item)
        if self.models.currentItem() is None and self.models.count():
            self.models.setCurrentRow(self.models.count() - 1)
        self.active.setText(self.tr("New transcriptions use: {0}").format(active or "base"))
        self._selected()

    @Slot()
    def _selected(self, *_args) -> None:
        item = self.models.currentItem()
        for b in (self.activate, self.rename, self.delete):
            b.setEnabled(item is not None)
        none = self.tr("No fine-tuned model yet.")
        self.summary.setText(item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else none)

    @Slot()
    def _rename(self) -> None:
        old = self.current()
        new, ok = QInputDialog.getText(self, self.tr("Rename model"), self.tr("New name:"), text=old)
        if ok and new.strip() and new.strip() != old:
            self.rename_requested.emit(old, new.strip())

    @Slot()
    def _delete(self) -> None:
        name = self.current()
        answer = QMessageBox.question(self, self.tr("Delete model"), self.tr("Delete the model '{0}'?").format(name))
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(name)
