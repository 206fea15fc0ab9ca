"""Training, step 2: the augmentations, each with its switch and values (the [augment] table)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.training.spectrogram import Spectrogram


def _spin(lo: float, hi: float, value: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    return s


class AugmentPage(QWidget):
    preview_requested = Signal()  # the app computes a before/after of a real clip (numpy, off the GUI thread)
    play_requested = Signal(str)  # "before" | "after"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec_on = QCheckBox(self.tr("&SpecAugment (masks in time and frequency)"))
        self.time_masks = QSpinBox()
        self.time_masks.setRange(0, 10)
        self.time_masks.setValue(2)
        self.freq_masks = QSpinBox()
        self.freq_masks.setRange(0, 10)
        self.freq_masks.setValue(1)
        self.noise_on = QCheckBox(self.tr("&Noise at a signal-to-noise ratio"))
        self.noise_p = _spin(0, 1, 0.5, 0.1)
        self.min_snr = _spin(-5, 40, 5, 1, 0)
        self.max_snr = _spin(-5, 40, 20, 1, 0)
        self.speed_on = QCheckBox(self.tr("S&peed perturbation"))
        self.speed_p = _spin(0, 1, 0.5, 0.1)
        self.min_speed = _spin(0.5, 1.0, 0.8, 0.05)
        self.max_speed = _spin(1.0, 1.5, 1.2, 0.05)
        outer = QHBoxLayout(self)
        layout = QVBoxLayout()
        outer.addLayout(layout, 1)
        right = QVBoxLayout()
        self.clip = QLabel(self.tr("Add data on the Data page to see one of your clips here."), self)
        self.clip.setWordWrap(True)
        self.before = Spectrogram(self.tr("Before (log-mel)"), self)
        self.after = Spectrogram(self.tr("After augmentation"), self)
        self.refresh = QPushButton(self.tr("&Show another draw"), self)
        self.play_before = QPushButton(self.tr("Play &before"), self)
        self.play_after = QPushButton(self.tr("Play &after"), self)
        buttons = QHBoxLayout()
        for b in (self.refresh, self.play_before, self.play_after):
            buttons.addWidget(b)
        right.addWidget(self.clip)
        right.addWidget(self.before, 1)
        right.addWidget(self.after, 1)
        right.addLayout(buttons)
        outer.addLayout(right, 1)
        self.seed = 0
        self.refresh.clicked.connect(self._another)
        self.play_before.clicked.connect(lambda: self.play_requested.emit("before"))
        self.play_after.clicked.connect(lambda: self.play_requested.emit("after"))
        for box, title, rows in (
            (self.spec_on, self.tr("SpecAugment"), [(self.tr("Time masks:"), self.time_masks),
                                                     (self.tr("Frequency masks:"), self.freq_masks)]),
            (self.noise_on, self.tr("Noise"), [(self.tr("Probability:"), self.noise_p),
                                               (self.tr("Lowest SNR (dB):"), self.min_snr),
                                               (self.tr("Highest SNR (dB):"), self.max_snr)]),
            (self.speed_on, self.tr("Speed"), [(self.tr("Probability:"), self.speed_p),
                                               (self.tr("Slowest:"), self.min_speed),
                                               (self.tr("Fastest:"), self.max_speed)]),
        ):  # fmt: skip
            group = QGroupBox(title, self)
            form = QFormLayout(group)
            form.addRow(box)
            box.setChecked(True)
            for label, w in rows:
                form.addRow(label, w)
                box.toggled.connect(w.setEnabled)
            layout.addWidget(group)
        layout.addStretch(1)

    def _another(self) -> None:
        self.seed += 1
        self.preview_requested.emit()

    def set_preview(self, clip: str, before, after) -> None:
        """A real clip's log-mel before and after the current augmentations."""
        self.clip.setText(self.tr("Clip: {0}").format(clip))
        self.before.set_mel(before)
        self.after.set_mel(after)

    def values(self) -> dict[str, dict]:
        """The [augment.*] tables (engine/training/augment.py's AugmentConfig.from_dict)."""
        return {
            "spec_augment": {"enabled": self.spec_on.isChecked(), "time_masks": self.time_masks.value(),
                             "freq_masks": self.freq_masks.value()},
            "noise": {"enabled": self.noise_on.isChecked(), "probability": self.noise_p.value(),
                      "min_snr_db": self.min_snr.value(), "max_snr_db": max(self.min_snr.value(), self.max_snr.value()),
                      },
            "speed": {"enabled": self.speed_on.isChecked(), "probability": self.speed_p.value(),
                      "min_factor": self.min_speed.value(), "max_factor": self.max_speed.value()},
        }  # fmt: skip

    def set_all(self, enabled: bool) -> None:
        for box in (self.spec_on, self.noise_on, self.speed_on):
            box.setChecked(enabled)
