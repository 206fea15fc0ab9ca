"""Painting of the Library's rows: three lines per meeting, two per search hit.

Every size comes from the font's metrics (no pixel constants), so rows grow with the font size
setting and with the screen's scale.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.library.model import DateRole, DurationRole, MarksRole, MissingRole, PreviewRole, SpeakersRole

_Index = QModelIndex | QPersistentModelIndex


class _Layout:
    """Fonts, colours and the inner rectangle of one row."""

    def __init__(self, option: QStyleOptionViewItem):
        self.font = QFont(option.font)
        self.bold = QFont(option.font)
        self.bold.setBold(True)
        self.fm = QFontMetrics(self.font)
        self.bfm = QFontMetrics(self.bold)
        self.pad_x = self.fm.averageCharWidth()
        self.pad_y = max(2, self.fm.height() // 2)
        self.gap = max(1, self.fm.height() // 6)
        self.rect = option.rect.adjusted(self.pad_x, self.pad_y, -self.pad_x, -self.pad_y)
        state = option.state
        group = QPalette.ColorGroup.Normal
        if not state & QStyle.StateFlag.State_Enabled:
            group = QPalette.ColorGroup.Disabled
        elif not state & QStyle.StateFlag.State_Active:
            group = QPalette.ColorGroup.Inactive
        self.selected = bool(state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text = pal.color(group, QPalette.ColorRole.Text)
        base = pal.color(group, QPalette.ColorRole.Base)
        if self.selected:
            self.text = pal.color(group, QPalette.ColorRole.HighlightedText)
            self.muted = QColor(self.text)
            self.muted.setAlphaF(0.8)
        else:
            self.text = text
            self.muted = _mix(text, base, 0.62)
        self.mark = QColor(pal.color(group, QPalette.ColorRole.Highlight))
        self.mark.setAlphaF(0.28)
        self.rule = _mix(text, base, 0.12)
        self.warn = QColor("#B3261E") if base.lightnessF() > 0.5 else QColor("#F2B8B5")  # a red for light/dark
        if self.selected:  # red on the selection colour is unreadable
            self.warn = self.text

    def line(self, top: int, height: int) -> QRect:
        return QRect(self.rect.left(), top, self.rect.width(), height)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` weighted ``t`` against ``b``: a muted text colour that keeps enough contrast."""
    return QColor.fromRgbF(
        a.redF() * t + b.redF() * (1 - t), a.greenF() * t + b.greenF() * (1 - t), a.blueF() * t + b.blueF() * (1 - t)
    )


def _background(painter: QPainter, option: QStyleOptionViewItem, index: _Index, delegate, lay: _Layout) -> None:
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    opt.text = ""
    style = opt.widget.style() if opt.widget is not None else QApplication.style()
    style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
    if not lay.selected:  # a hairline between rows
        painter.save()
        painter.setPen(lay.rule)
        r = option.rect
        painter.drawLine(r.left() + lay.pad_x, r.bottom(), r.right() - lay.pad_x, r.bottom())
        painter.restore()


def _text(painter: QPainter, rect: QRect, font: QFont, color: QColor, text: str, align=Qt.AlignmentFlag.AlignLeft):
    fm = QFontMetrics(font)
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(
        rect, align | Qt.AlignmentFlag.AlignVCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    )


class MeetingDelegate(QStyledItemDelegate):
    """Title and date; length and speakers; the first line of the transcript."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.missing_text = self.tr("recording missing")

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        lay = _Layout(option)
        h = lay.bfm.height() + 2 * lay.fm.height() + 2 * lay.gap + 2 * lay.pad_y
        return QSize(lay.fm.averageCharWidth() * 40, h)

    def _title_rect(self, lay: _Layout, date: str) -> QRect:
        date_w = lay.fm.horizontalAdvance(date) + 2 * lay.pad_x if date else 0
        r = lay.line(lay.rect.top(), lay.bfm.height())
        r.setRight(r.right() - date_w)
        return r

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        lay = _Layout(option)
        _background(painter, option, index, self, lay)
        painter.save()
        date = index.data(DateRole) or ""
        top = lay.rect.top()
        line1 = lay.line(top, lay.bfm.height())
        _text(painter, line1, lay.font, lay.muted, date, Qt.AlignmentFlag.AlignRight)
        _text(painter, self._title_rect(lay, date), lay.bold, lay.text, index.data(Qt.ItemDataRole.DisplayRole) or "")
        top += lay.bfm.height() + lay.gap
        facts = " · ".join(x for x in (index.data(DurationRole), index.data(SpeakersRole)) if x)
        line2 = lay.line(top, lay.fm.height())
        if index.data(MissingRole):
            missing = self.missing_text
            w = min(lay.fm.horizontalAdvance(missing), line2.width() // 2)
            _text(painter, line2, lay.font, lay.warn, missing, Qt.AlignmentFlag.AlignRight)
            line2.setRight(line2.right() - w - 2 * lay.pad_x)
        _text(painter, line2, lay.font, lay.muted, facts)
        top += lay.fm.height() + lay.gap
        preview = " ".join((index.data(PreviewRole) or "").split())
        _text(painter, lay.line(top, lay.fm.height()), lay.font, lay.text, preview)
        painter.restore()

    # In-place rename: a line edit over the title.
    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setFrame(True)
        return editor

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        editor.setText(index.data(Qt.ItemDataRole.EditRole) or index.data(Qt.ItemDataRole.DisplayRole) or "")
        editor.selectAll()

    def setModelData(self, editor: QWidget, model, index: _Index) -> None:
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: _Index) -> None:
        lay = _Layout(option)
        r = self._title_rect(lay, index.data(DateRole) or "")
        h = max(editor.sizeHint().height(), r.height())
        editor.setGeometry(QRect(r.left(), r.top() + (r.height() - h) // 2, r.width(), h))


class HitDelegate(QStyledItemDelegate):
    """The meeting's title with the time of the match; the snippet with the matches marked."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        lay = _Layout(option)
        h = lay.bfm.height() + lay.bfm.height() + lay.gap + 2 * lay.pad_y
        return QSize(lay.fm.averageCharWidth() * 40, h)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        lay = _Layout(option)
        _background(painter, option, index, self, lay)
        painter.save()
        top = lay.rect.top()
        title = index.data(Qt.ItemDataRole.DisplayRole) or ""
        hit = index.data(PreviewRole) or ""
        where = " · ".join(x for x in (index.data(DurationRole), index.data(SpeakersRole)) if x)
        where_w = lay.fm.horizontalAdvance(where) + 2 * lay.pad_x if where else 0
        line1 = lay.line(top, lay.bfm.height())
        title_rect = QRect(line1)
        title_rect.setRight(line1.right() - where_w)
        _text(painter, line1, lay.font, lay.muted, where, Qt.AlignmentFlag.AlignRight)
        _text(painter, title_rect, lay.bold, lay.text, title)
        top += lay.bfm.height() + lay.gap
        runs, at = [], 0
        for a, b in sorted(tuple(m) for m in (index.data(MarksRole) or [])):
            if a < at:
                continue
            runs += [(hit[at:a], False), (hit[a:b], True)]
            at = b
        runs.append((hit[at:], False))
        self._runs(painter, lay, lay.line(top, lay.bfm.height()), runs)
        painter.restore()

    def _runs(self, painter: QPainter, lay: _Layout, rect: QRect, runs: list[tuple[str, bool]]) -> None:
        x, right = rect.left(), rect.right() + 1
        for text, marked in runs:
            if not text:
                continue
            font, fm = (lay.bold, lay.bfm) if marked else (lay.font, lay.fm)
            w = fm.horizontalAdvance(text)
            last = x + w > right
            if last:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, right - x)
                if not text:
                    break
                w = fm.horizontalAdvance(text)
            r = QRect(x, rect.top(), w, rect.height())
            if marked and not lay.selected:
                painter.fillRect(r, lay.mark)
            painter.setFont(font)
            painter.setPen(lay.text)
            painter.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += w
            if last:
                break
