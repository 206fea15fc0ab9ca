"""Training, step 2: the augmentations, each with its switch and values (the [augment] table)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox, QVBoxLayout, QWidget


def _spin(lo: float, hi: float, value: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    return s


class AugmentPage(QWidget):
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
        layout = QVBoxLayout(self)
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
