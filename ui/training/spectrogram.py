"""A log-mel spectrogram drawn with QPainter from a numpy array (no plotting library: nothing to
load at start-up; a 80 x 3000 image is one QImage)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def _colours(values: np.ndarray) -> np.ndarray:
    """0..1 to a dark-blue -> yellow ramp, as 32-bit ARGB."""
    v = np.clip(values, 0, 1)
    r = (255 * np.clip(1.6 * v - 0.3, 0, 1)).astype(np.uint32)
    g = (255 * np.clip(1.2 * v - 0.1, 0, 1) ** 1.2).astype(np.uint32)
    b = (255 * np.clip(0.6 - 0.6 * v + 0.4 * (v < 0.3), 0, 1)).astype(np.uint32)
    return (0xFF << 24) | (r << 16) | (g << 8) | b


class Spectrogram(QWidget):
    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.image: QImage | None = None
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_mel(self, mel: np.ndarray | None) -> None:
        """``mel``: (n_mels, frames) Whisper log-mel (about -1..1.5); None clears it."""
        if mel is None or mel.size == 0:
            self.image = None
        else:
            lo, hi = float(mel.min()), float(mel.max())
            scaled = (mel[::-1] - lo) / max(hi - lo, 1e-6)  # low frequencies at the bottom
            argb = np.ascontiguousarray(_colours(scaled))
            h, w = argb.shape
            self.image = QImage(argb.data, w, h, 4 * w, QImage.Format.Format_ARGB32).copy()
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        m = p.fontMetrics().height()
        p.setPen(self.palette().text().color())
        p.drawText(QRectF(0, 0, self.width(), m), Qt.AlignmentFlag.AlignLeft, self.title)
        if self.image is not None:
            p.drawImage(QRectF(0, m + 2, self.width(), self.height() - m - 2), self.image)
        p.end()
