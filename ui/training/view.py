"""The Training view: the fine-tune wizard over `minutes train`, one tab a step (Data,
Augmentation, Settings, Train, Evaluate, Export). Widgets only: app/training_controller.py runs
the child process and app/window.py wires the two."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ui.training.augment_page import AugmentPage
from ui.training.data_page import DataPage
from ui.training.evaluate_page import EvaluatePage
from ui.training.export_page import ExportPage
from ui.training.settings_page import SettingsPage
from ui.training.train_page import TrainPage


class TrainingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs = QTabWidget(self)
        self.data = DataPage()
        self.augment = AugmentPage()
        self.settings = SettingsPage()
        self.train = TrainPage()
        self.evaluate = EvaluatePage()
        self.export = ExportPage()
        for page, title in (
            (self.data, self.tr("1 Data")),
            (self.augment, self.tr("2 Augmentation")),
            (self.settings, self.tr("3 Settings")),
            (self.train, self.tr("4 Train")),
            (self.evaluate, self.tr("5 Evaluate")),
            (self.export, self.tr("6 Export")),
        ):
            self.tabs.addTab(page, title)
        self.unavailable = QLabel(self)  # the runtime installer has no torch: say so, plainly
        self.unavailable.setWordWrap(True)
        self.unavailable.setMargin(12)
        self.unavailable.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.unavailable)
        layout.addWidget(self.tabs)
        for w in self.augment.findChildren(QWidget):
            sig = getattr(w, "toggled", None) or getattr(w, "valueChanged", None)
            if sig is not None:
                sig.connect(self._augment_changed)
        self._augment_changed()

    def set_unavailable(self) -> None:
        """Training cannot run in this install (no PyTorch): the wizard stays visible but disabled."""
        self.unavailable.setText(
            self.tr(
                "<b>Training needs the full variant of Minutes.</b> This installer leaves PyTorch out to"
                " stay small. Install the full variant to fine-tune models; transcription, live capture,"
                " speakers, chapters and export work the same in both."
            )
        )
        self.unavailable.show()
        self.tabs.setEnabled(False)

    def _augment_changed(self, *_args) -> None:
        self.settings.set_augment(self.augment.values())

    def show_page(self, page: QWidget) -> None:
        self.tabs.setCurrentWidget(page)
