"""Draw the app icon once (PNG for Linux, ICO for Windows, ICNS for macOS) with Qt alone.

Why a script: the icon is a few shapes, and regenerating it needs no image editor or Pillow.
Run from the repo root: ``python installers/make_icons.py``; the outputs are committed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "icons"


def draw(size: int):
    """A blue rounded square with a white speech waveform: readable from 16 to 1024 pixels."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#2563eb"))
    m = size * 0.06
    p.drawRoundedRect(QRectF(m, m, size - 2 * m, size - 2 * m), size * 0.2, size * 0.2)
    pen = QPen(QColor("white"), max(1.0, size * 0.07), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    heights = [0.18, 0.38, 0.6, 0.3, 0.5, 0.22]
    step = (size - 2 * m) / (len(heights) + 1)
    for i, h in enumerate(heights, start=1):
        x = m + i * step
        p.drawLine(int(x), int(size / 2 - h * size / 2 * 0.9), int(x), int(size / 2 + h * size / 2 * 0.9))
    p.end()
    return img


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication(sys.argv[:1])
    OUT.mkdir(exist_ok=True)
    ok = draw(256).save(str(OUT / "minutes.png"))
    ok &= draw(256).save(str(OUT / "minutes.ico"), "ICO")
    ok &= draw(1024).save(str(OUT / "minutes.icns"), "ICNS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
