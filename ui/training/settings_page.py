"""Training, step 3: a preset, the advanced values, the expected time, and the config file they make."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

# What each preset sets (engine/training/config.py PRESETS; quick is the dataclass defaults).
PRESET_VALUES: dict[str, dict[str, Any]] = {
    "quick": dict(lr=1e-5, steps=100, batch_seconds=60.0, accumulation=1, freeze_encoder=True, lora_rank=0),
    "standard": dict(lr=1e-5, steps=2000, batch_seconds=120.0, accumulation=1, freeze_encoder=False, lora_rank=0),
    "thorough": dict(lr=1e-5, steps=6000, batch_seconds=240.0, accumulation=1, freeze_encoder=False, lora_rank=0),
}
# Seconds an optimizer step takes per second of batch audio, on 2 CPU cores (engine/training/config.py:
# a 60 s batch ~4.5 s with the encoder frozen; the whole model ~2.2x that). A measured run replaces it.
SECONDS_PER_BATCH_SECOND = {True: 4.5 / 60, False: 10.0 / 60}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


class SettingsPage(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measured_step_s: float | None = None  # per second of batch audio, from a run's events
        self.augment: dict[str, dict] = {}
        self.extra: dict[str, Any] = {}  # values set by code (tests, an expert's file) beyond the form
        self.preset = QComboBox(self)
        self.preset_names = {
            "quick": self.tr("Quick"),
            "standard": self.tr("Standard"),
            "thorough": self.tr("Thorough"),
        }
        for key, label in self.preset_names.items():
            self.preset.addItem(label, key)
        self.estimate = QLabel(self)
        self.estimate.setWordWrap(True)
        self.lr = QDoubleSpinBox(self)
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1e-1)
        self.lr.setSingleStep(1e-5)
        self.steps = QSpinBox(self)
        self.steps.setRange(1, 100000)
        self.batch = QDoubleSpinBox(self)
        self.batch.setRange(1, 1000)
        self.batch.setSuffix(" s")
        self.accumulation = QSpinBox(self)
        self.accumulation.setRange(1, 64)
        self.freeze = QCheckBox(self.tr("&Freeze the encoder (train only the decoder)"), self)
        self.lora = QSpinBox(self)
        self.lora.setRange(0, 64)
        self.lora.setSpecialValueText(self.tr("off"))
        self.amp = QComboBox(self)
        for v in ("auto", "off", "fp16", "bf16"):
            self.amp.addItem(v, v)
        self.device = QComboBox(self)
        for v, label in (("auto", self.tr("automatic")), ("cpu", "CPU"), ("cuda", "CUDA")):
            self.device.addItem(label, v)
        self.config_text = QPlainTextEdit(self)
        self.config_text.setReadOnly(True)
        self.config_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        form = QFormLayout()
        form.addRow(self.tr("&Preset:"), self.preset)
        form.addRow(self.tr("Expected time:"), self.estimate)
        form.addRow(self.tr("&Learning rate:"), self.lr)
        form.addRow(self.tr("&Steps:"), self.steps)
        form.addRow(self.tr("&Batch duration:"), self.batch)
        form.addRow(self.tr("&Accumulation:"), self.accumulation)
        form.addRow("", self.freeze)
        form.addRow(self.tr("Adapters (LoRA &rank):"), self.lora)
        form.addRow(self.tr("&Mixed precision (AMP):"), self.amp)
        form.addRow(self.tr("&Device:"), self.device)
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addStretch(1)
        layout.addLayout(left, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel(self.tr("Config file (config.toml):"), self))
        right.addWidget(self.config_text, 1)
        layout.addLayout(right, 1)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        for w in (self.lr, self.batch):
            w.valueChanged.connect(self._refresh)
        for w in (self.steps, self.accumulation, self.lora):
            w.valueChanged.connect(self._refresh)
        self.freeze.toggled.connect(self._refresh)
        self.amp.currentIndexChanged.connect(self._refresh)
        self.device.currentIndexChanged.connect(self._refresh)
        self._apply_preset()

    @Slot()
    def _apply_preset(self) -> None:
        v = PRESET_VALUES[self.preset.currentData()]
        widgets = (self.lr, self.steps, self.batch, self.accumulation, self.freeze, self.lora)
        for w in widgets:
            w.blockSignals(True)
        self.lr.setValue(v["lr"])
        self.steps.setValue(v["steps"])
        self.batch.setValue(v["batch_seconds"])
        self.accumulation.setValue(v["accumulation"])
        self.freeze.setChecked(v["freeze_encoder"])
        self.lora.setValue(v["lora_rank"])
        for w in widgets:
            w.blockSignals(False)
        self._refresh()

    def values(self) -> dict[str, Any]:
        out = {
            "lr": self.lr.value(), "steps": self.steps.value(), "batch_seconds": self.batch.value(),
            "accumulation": self.accumulation.value(), "freeze_encoder": self.freeze.isChecked(),
            "lora_rank": self.lora.value(), "amp": self.amp.currentData(), "device": self.device.currentData(),
        }  # fmt: skip
        out.update(self.extra)
        return out

    def expected_seconds(self, values: dict[str, Any] | None = None) -> float:
        """Training time: steps x batch audio x seconds per batch second (measured on this machine
        by the last run when there is one, else the figures measured for the presets)."""
        v = values or self.values()
        per = self.measured_step_s or SECONDS_PER_BATCH_SECOND[bool(v["freeze_encoder"])]
        if self.measured_step_s and not v["freeze_encoder"]:
            per *= SECONDS_PER_BATCH_SECOND[False] / SECONDS_PER_BATCH_SECOND[True]
        return v["steps"] * v["accumulation"] * v["batch_seconds"] * per

    def duration_text(self, seconds: float) -> str:
        if seconds < 90:
            return self.tr("about {0:.0f} s").format(seconds)
        if seconds < 5400:
            return self.tr("about {0:.0f} min").format(seconds / 60)
        return self.tr("about {0:.1f} h").format(seconds / 3600)

    def set_measured(self, seconds_per_step: float, batch_seconds: float) -> None:
        """A run's measured step time (from its events), used for every later estimate."""
        if seconds_per_step > 0 and batch_seconds > 0:
            self.measured_step_s = seconds_per_step / batch_seconds
            self._refresh()

    def toml(self) -> str:
        """The config file this page stands for (what `minutes train --config` reads)."""
        lines = [f'preset = "{self.preset.currentData()}"', "", "[train]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in self.values().items()]
        for section, table in self.augment.items():
            lines += ["", f"[augment.{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        return "\n".join(lines) + "\n"

    def set_augment(self, tables: dict[str, dict]) -> None:
        self.augment = tables
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        basis = self.tr("measured on this machine") if self.measured_step_s else self.tr("estimated for 2 CPU cores")
        text = self.tr("{0} of training ({1}), plus scoring and export")
        self.estimate.setText(text.format(self.duration_text(self.expected_seconds()), basis))
        for i in range(self.preset.count()):
            key = self.preset.itemData(i)
            seconds = self.expected_seconds(PRESET_VALUES[key])
            self.preset.setItemText(i, f"{self.preset_names[key]} ({self.duration_text(seconds)})")
        self.config_text.setPlainText(self.toml())
        self.changed.emit()
