"""A small line plot (QPainter): training loss and dev WER against the step, as the events come."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LOSS = QColor("#1f77b4")
WER = QColor("#d62728")


class LossPlot(QWidget):
    """``add_loss(step, loss)`` and ``add_wer(step, wer)``; each curve has its own scale (left, right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss: list[tuple[float, float]] = []
        self.wer: list[tuple[float, float]] = []
        self.total_steps = 0
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.loss.clear()
        self.wer.clear()
        self.update()

    def add_loss(self, step: float, value: float) -> None:
        self.loss.append((step, value))
        self.update()

    def add_wer(self, step: float, value: float) -> None:
        self.wer.append((step, value))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        fm = p.fontMetrics()
        m = fm.height()
        area = QRectF(3 * m, m, self.width() - 6 * m, self.height() - 3 * m)
        p.setPen(QPen(pal.mid().color()))
        p.drawRect(area)
        xmax = max([self.total_steps] + [s for s, _ in self.loss + self.wer] + [1])
        p.setPen(pal.text().color())
        p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), m), Qt.AlignmentFlag.AlignCenter,
                   self.tr("step (of {0})").format(xmax))  # fmt: skip
        self._curve(p, area, self.loss, xmax, LOSS, self.tr("loss"), left=True)
        self._curve(p, area, self.wer, xmax, WER, self.tr("dev WER"), left=False, percent=True)
        p.end()

    def _curve(self, p, area, points, xmax, colour, label, left: bool, percent: bool = False) -> None:
        m = p.fontMetrics().height()
        top = max([v for _, v in points] + [1e-9])
        ymax = top * 1.1
        p.setPen(colour)
        text = f"{label} {top * 100:.0f}%" if percent else f"{label} {top:.2f}"
        x = area.left() if left else area.right() - p.fontMetrics().horizontalAdvance(text)
        p.drawText(QPointF(x, area.top() - 2 if m else 0), text)
        if not points:
            return
        path = QPainterPath()
        for i, (s, v) in enumerate(points):
            pt = QPointF(area.left() + area.width() * s / xmax, area.bottom() - area.height() * v / ymax)
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
            if len(points) < 40:
                p.drawEllipse(pt, 2.5, 2.5)
        p.setPen(QPen(colour, 2))
        p.drawPath(path)
