"""The speaker timeline: one coloured lane per speaker over the whole meeting.

Lanes come from the diarization's turns when the transcript has them (speech without words and
overlaps show), else from the segments. Chapter starts are thin marks, the playback position a
line; a click or a drag seeks, and the arrow keys step 5 s when the strip has focus. The lanes
are painted once into a pixmap (per size and data) so moving the position line at 30 Hz costs
only a blit.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ui.transcript.edits import format_time, speaker_intervals
from ui.transcript.models import TranscriptDocument


class SpeakerTimeline(QWidget):
    seek_requested = Signal(float)

    def __init__(self, doc: TranscriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.position = 0.0
        self._cache: QPixmap | None = None
        self._lanes: list[tuple[str, list[tuple[float, float]]]] = []
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(self.tr("Speaker timeline"))
        self.setToolTip(self.tr("Who speaks when. Click to play from there."))
        doc.turns_changed.connect(self.refresh)
        doc.speakers_changed.connect(self.refresh)
        doc.chapters_changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ geometry (font-based)

    def _lane_h(self) -> int:
        return max(4, round(self.fontMetrics().height() * 1.15))

    def _pad(self) -> int:
        return max(2, self.fontMetrics().height() // 4)

    def _label_w(self) -> int:
        fm = self.fontMetrics()
        names = [self.doc.speaker_name(sid) for sid, _ in self._lanes] or [""]
        return max(fm.horizontalAdvance(n) for n in names) + 3 * self._pad()

    def _track(self) -> QRect:
        """Where the lanes are drawn (right of the names)."""
        pad = self._pad()
        left = self._label_w()
        return QRect(left, pad, max(1, self.width() - left - pad), max(1, self.height() - 2 * pad))

    def _duration(self) -> float:
        t = self.doc.transcript
        end = max([t.audio.duration or 0.0] + [s.end for s in t.segments[-1:]] + [x.end for x in t.turns[-1:]])
        return max(end, 1e-3)

    def sizeHint(self) -> QSize:
        lanes = max(1, len(self._lanes))
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 60, lanes * self._lane_h() + 2 * self._pad())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 20, self.sizeHint().height())

    # ------------------------------------------------------------------ data

    def refresh(self) -> None:
        lanes = speaker_intervals(self.doc.transcript)
        order = [sid for sid in self.doc.speaker_ids() if sid in lanes] + [
            s for s in lanes if s not in self.doc.speaker_ids()
        ]
        self._lanes = [(sid, lanes[sid]) for sid in order]
        self._cache = None
        self.updateGeometry()
        self.update()

    def set_position(self, seconds: float) -> None:
        if abs(seconds - self.position) < 1e-4:
            return
        old = self._x(self.position)
        self.position = seconds
        new = self._x(seconds)
        w = max(2, self.fontMetrics().height() // 4)
        self.update(QRect(int(min(old, new)) - w, 0, int(abs(new - old)) + 2 * w, self.height()))

    def _x(self, t: float) -> float:
        tr = self._track()
        return tr.left() + tr.width() * min(max(t, 0.0), self._duration()) / self._duration()

    def time_at(self, x: float) -> float:
        tr = self._track()
        return min(max(0.0, (x - tr.left()) / max(1, tr.width())), 1.0) * self._duration()

    def lane_rect(self, speaker_id: str) -> QRectF | None:
        for i, (sid, _) in enumerate(self._lanes):
            if sid == speaker_id:
                tr = self._track()
                lh = tr.height() / max(1, len(self._lanes))
                return QRectF(tr.left(), tr.top() + i * lh, tr.width(), lh)
        return None

    # ------------------------------------------------------------------ painting

    def _paint_cache(self) -> QPixmap:
        dpr = self.devicePixelRatioF()
        pm = QPixmap(self.size() * dpr)
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pal = self.palette()
        tr = self._track()
        n = max(1, len(self._lanes))
        lh = tr.height() / n
        pad = self._pad()
        groove = QColor(pal.color(QPalette.ColorRole.Mid))
        groove.setAlpha(60)
        dur = self._duration()
        scale = tr.width() / dur
        for i, (sid, spans) in enumerate(self._lanes):
            top = tr.top() + i * lh
            band = QRectF(tr.left(), top + lh * 0.15, tr.width(), lh * 0.7)
            p.fillRect(band, groove)
            color = self.doc.color(sid)
            # Neighbouring turns closer than a device pixel are drawn as one rectangle.
            x0 = x1 = None
            for s, e in sorted(spans):
                xs, xe = tr.left() + s * scale, tr.left() + e * scale
                if x1 is not None and xs <= x1 + 1 / dpr:
                    x1 = max(x1, xe)
                    continue
                if x0 is not None:
                    p.fillRect(QRectF(x0, band.top(), max(1 / dpr, x1 - x0), band.height()), color)
                x0, x1 = xs, xe
            if x0 is not None:
                p.fillRect(QRectF(x0, band.top(), max(1 / dpr, x1 - x0), band.height()), color)
            p.setPen(color)
            name_rect = QRectF(pad, top, tr.left() - 2 * pad, lh)
            name = self.fontMetrics().elidedText(
                self.doc.speaker_name(sid), Qt.TextElideMode.ElideRight, int(name_rect.width())
            )
            p.drawText(name_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight), name)
        if not self._lanes:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(tr, int(Qt.AlignmentFlag.AlignCenter), self.tr("No speakers in this transcript"))
        mark = QPen(pal.color(QPalette.ColorRole.WindowText))
        mark.setStyle(Qt.PenStyle.DotLine)
        p.setPen(mark)
        for ch in self.doc.transcript.chapters[1:]:
            x = tr.left() + ch.start * scale
            p.drawLine(QPointF(x, tr.top()), QPointF(x, tr.bottom()))
        p.end()
        return pm

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._cache is None or self._cache.size() != self.size() * self.devicePixelRatioF():
            self._cache = self._paint_cache()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._cache)
        x = self._x(self.position)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
        pen.setWidthF(max(1.0, self.fontMetrics().height() / 8))
        p.setPen(pen)
        tr = self._track()
        p.drawLine(QPointF(x, 0), QPointF(x, tr.bottom() + self._pad()))
        if self.hasFocus():
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def resizeEvent(self, event) -> None:
        self._cache = None
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        self._cache = None
        super().changeEvent(event)

    # ------------------------------------------------------------------ input

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.time_at(event.position().x()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        t = self.time_at(event.position().x())
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(t)
        tr = self._track()
        n = max(1, len(self._lanes))
        lane = int((event.position().y() - tr.top()) / (tr.height() / n))
        tip = format_time(t, True)
        if 0 <= lane < len(self._lanes) and event.position().x() >= tr.left():
            sid, spans = self._lanes[lane]
            if any(s <= t <= e for s, e in spans):
                tip = f"{self.doc.speaker_name(sid)} · {tip}"
        QToolTip.showText(event.globalPosition().toPoint(), tip, self)
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_Left: -5.0, Qt.Key.Key_Right: 5.0}.get(event.key())
        if step is not None:
            self.seek_requested.emit(max(0.0, self.position + step))
            return
        if event.key() == Qt.Key.Key_Home:
            self.seek_requested.emit(0.0)
            return
        super().keyPressEvent(event)
