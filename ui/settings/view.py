"""Settings: model, device, language, speakers, export, look, folders, input devices.

Edits apply when the user presses Apply (or at once for the look: theme, font size, UI
language, so the effect is visible); ``preferences_changed`` carries the whole set.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.files.view import LANGUAGES
from ui.settings.preferences import FORMATS, Preferences

DEVICES = (
    ("auto", QT_TRANSLATE_NOOP("SettingsView", "Automatic (GPU when available)")),
    ("cuda", QT_TRANSLATE_NOOP("SettingsView", "NVIDIA GPU (CUDA)")),
    ("cpu", QT_TRANSLATE_NOOP("SettingsView", "CPU")),
)
PRECISIONS = (
    ("auto", QT_TRANSLATE_NOOP("SettingsView", "Automatic (INT8 on CPU, FP16 on GPU)")),
    ("int8", QT_TRANSLATE_NOOP("SettingsView", "INT8")),
    ("fp32", QT_TRANSLATE_NOOP("SettingsView", "FP32")),
    ("fp16", QT_TRANSLATE_NOOP("SettingsView", "FP16")),
)
THEMES = (
    ("system", QT_TRANSLATE_NOOP("SettingsView", "Follow the system")),
    ("light", QT_TRANSLATE_NOOP("SettingsView", "Light")),
    ("dark", QT_TRANSLATE_NOOP("SettingsView", "Dark")),
)
UI_LANGUAGES = (
    ("system", QT_TRANSLATE_NOOP("SettingsView", "Follow the system")),
    ("en", "English"),
    ("zh_CN", "简体中文"),
)
SCRIPTS = (
    ("simplified", QT_TRANSLATE_NOOP("SettingsView", "Simplified")),
    ("traditional", QT_TRANSLATE_NOOP("SettingsView", "Traditional")),
    ("asis", QT_TRANSLATE_NOOP("SettingsView", "As recognised")),
)


def _combo(parent: QWidget, items, context: str = "SettingsView") -> QComboBox:
    """A box of (value, label) items; the labels are marked with QT_TRANSLATE_NOOP(context, ...)."""
    box = QComboBox(parent)
    for value, label in items:
        box.addItem(QCoreApplication.translate(context, label), value)
    return box


def _select(box: QComboBox, value) -> None:
    i = box.findData(value)
    box.setCurrentIndex(i if i >= 0 else 0)


class SettingsView(QWidget):
    preferences_changed = Signal(object)  # Preferences
    look_changed = Signal(object)  # Preferences: theme, font size or UI language changed (apply at once)

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prefs = prefs

        self.model = QComboBox(self)
        self.model.addItem(self.tr("Whisper base (built in)"), "base")
        self.device = _combo(self, DEVICES)
        self.precision = _combo(self, PRECISIONS)
        self.threads = QSpinBox(self)
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(self.tr("All cores"))
        recognition = QGroupBox(self.tr("Recognition"), self)
        form = QFormLayout(recognition)
        form.addRow(self.tr("&Model:"), self.model)
        form.addRow(self.tr("&Device:"), self.device)
        form.addRow(self.tr("&Precision:"), self.precision)
        form.addRow(self.tr("CPU &threads:"), self.threads)

        self.language = _combo(self, LANGUAGES, "FilesView")
        self.script = _combo(self, SCRIPTS)
        self.speakers = QComboBox(self)
        self.speakers.addItem(self.tr("Automatic"), 0)
        for n in range(1, 9):
            self.speakers.addItem(str(n), n)
        self.hotwords = QLineEdit(self)
        self.hotwords.setPlaceholderText(self.tr("Names and terms to spell right"))
        defaults = QGroupBox(self.tr("Defaults for new transcripts"), self)
        form = QFormLayout(defaults)
        form.addRow(self.tr("&Language:"), self.language)
        form.addRow(self.tr("Chinese &script:"), self.script)
        form.addRow(self.tr("&Speakers:"), self.speakers)
        form.addRow(self.tr("&Hotwords:"), self.hotwords)

        self.auto_export = QCheckBox(self.tr("Export automatically when a file is transcribed"), self)
        self.format_boxes: dict[str, QCheckBox] = {}
        formats_row = QHBoxLayout()
        for fmt in FORMATS:
            box = QCheckBox(fmt.upper(), self)
            self.format_boxes[fmt] = box
            formats_row.addWidget(box)
        formats_row.addStretch(1)
        self.export_folder = QLineEdit(self)
        self.export_folder.setPlaceholderText(self.tr("Beside the recording"))
        browse = QPushButton(self.tr("Choose…"), self)
        browse.clicked.connect(lambda: self._choose_folder(self.export_folder))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.export_folder, 1)
        folder_row.addWidget(browse)
        export = QGroupBox(self.tr("Export"), self)
        form = QFormLayout(export)
        form.addRow("", self.auto_export)
        form.addRow(self.tr("Formats:"), formats_row)
        form.addRow(self.tr("&Folder:"), folder_row)
        form.labelForField(folder_row).setBuddy(self.export_folder)  # the row is a layout: no buddy by itself

        self.theme = _combo(self, THEMES)
        self.ui_language = _combo(self, UI_LANGUAGES)
        self.font_size = QSpinBox(self)
        self.font_size.setRange(0, 32)
        self.font_size.setSpecialValueText(self.tr("System"))
        self.font_size.setSuffix(self.tr(" pt"))
        look = QGroupBox(self.tr("Appearance"), self)
        form = QFormLayout(look)
        form.addRow(self.tr("&Theme:"), self.theme)
        form.addRow(self.tr("&Interface language:"), self.ui_language)
        form.addRow(self.tr("&Font size:"), self.font_size)
        for w in (self.theme, self.ui_language):
            w.currentIndexChanged.connect(self._look)
        self.font_size.valueChanged.connect(self._look)

        self.data_folder = QLineEdit(self)
        self.data_folder.setPlaceholderText(self.tr("Default user data folder"))
        data_browse = QPushButton(self.tr("Choose…"), self)
        data_browse.clicked.connect(lambda: self._choose_folder(self.data_folder))
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_folder, 1)
        data_row.addWidget(data_browse)
        self.input_device = QComboBox(self)
        self.input_device.setEditable(True)
        self.system_audio = QComboBox(self)
        self.system_audio.setEditable(True)
        storage = QGroupBox(self.tr("Storage and audio"), self)
        form = QFormLayout(storage)
        form.addRow(self.tr("&Data folder:"), data_row)
        form.labelForField(data_row).setBuddy(self.data_folder)
        form.addRow(self.tr("&Microphone:"), self.input_device)
        form.addRow(self.tr("S&ystem audio:"), self.system_audio)
        self.restart_note = QLabel(self.tr("A new data folder is used after a restart."), self)
        self.restart_note.setWordWrap(True)
        form.addRow("", self.restart_note)

        ok = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(ok.Apply | ok.Reset)
        self.buttons.button(ok.Apply).clicked.connect(self.apply)
        self.buttons.button(ok.Reset).clicked.connect(lambda: self.set_preferences(self._prefs))

        inner = QWidget(self)
        column = QVBoxLayout(inner)
        for group in (recognition, defaults, export, look, storage):
            column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.set_preferences(prefs)

    # -- values ----------------------------------------------------------------------------------
    def set_models(self, models: list[tuple[str, str]]) -> None:
        self.model.clear()
        for value, label in models:
            self.model.addItem(label, value)
        _select(self.model, self._prefs.model)

    def set_input_devices(self, microphones: list[str], system: list[str]) -> None:
        for box, names, current in (
            (self.input_device, microphones, self._prefs.input_device),
            (self.system_audio, system, self._prefs.system_audio_device),
        ):
            box.clear()
            box.addItem(self.tr("System default") if box is self.input_device else self.tr("None"), "")
            for name in names:
                box.addItem(name, name)
            i = box.findData(current)
            if i < 0 and current:
                box.addItem(self.tr("{0} (not connected)").format(current), current)
                i = box.count() - 1
            box.setCurrentIndex(max(0, i))

    def set_preferences(self, prefs: Preferences) -> None:
        self._prefs = prefs
        widgets = (self.theme, self.ui_language, self.font_size)
        for w in widgets:
            w.blockSignals(True)
        _select(self.model, prefs.model)
        _select(self.device, prefs.device)
        _select(self.precision, prefs.precision)
        self.threads.setValue(prefs.threads)
        _select(self.language, prefs.language)
        _select(self.script, prefs.chinese)
        _select(self.speakers, prefs.speakers)
        self.hotwords.setText(prefs.hotwords)
        self.auto_export.setChecked(prefs.auto_export)
        chosen = set(prefs.formats())
        for fmt, box in self.format_boxes.items():
            box.setChecked(fmt in chosen)
        self.export_folder.setText(prefs.export_folder)
        _select(self.theme, prefs.theme)
        _select(self.ui_language, prefs.ui_language)
        self.font_size.setValue(prefs.font_size)
        self.data_folder.setText(prefs.data_folder)
        for w in widgets:
            w.blockSignals(False)

    def preferences(self) -> Preferences:
        return replace(
            self._prefs,
            model=self.model.currentData() or "base",
            device=self.device.currentData(),
            precision=self.precision.currentData(),
            threads=self.threads.value(),
            language=self.language.currentData() or "",
            chinese=self.script.currentData(),
            speakers=int(self.speakers.currentData() or 0),
            hotwords=self.hotwords.text().strip(),
            auto_export=self.auto_export.isChecked(),
            export_formats=",".join(f for f, b in self.format_boxes.items() if b.isChecked()),
            export_folder=self.export_folder.text().strip(),
            theme=self.theme.currentData(),
            ui_language=self.ui_language.currentData(),
            font_size=self.font_size.value(),
            data_folder=self.data_folder.text().strip(),
            input_device=self._device_name(self.input_device),
            system_audio_device=self._device_name(self.system_audio),
        )

    @staticmethod
    def _device_name(box: QComboBox) -> str:
        """The chosen device's name; a name typed in (an editable box) is taken as it is."""
        i = box.findText(box.currentText())
        return str(box.itemData(i) or "") if i >= 0 else box.currentText().strip()

    @Slot()
    def apply(self) -> None:
        self._prefs = self.preferences()
        self.preferences_changed.emit(self._prefs)

    @Slot()
    def _look(self, *args) -> None:
        prefs = replace(
            self._prefs,
            theme=self.theme.currentData(),
            ui_language=self.ui_language.currentData(),
            font_size=self.font_size.value(),
        )
        self._prefs = prefs
        self.look_changed.emit(prefs)

    def _choose_folder(self, line: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), line.text())
        if folder:
            line.setText(folder)
