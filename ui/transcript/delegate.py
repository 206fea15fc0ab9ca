"""The segment list: a QListView whose delegate paints each segment and edits its text.

A row is an optional chapter heading, a header line (time, speaker name in the speaker's
colour) and the word-wrapped text. Row heights are cached by (text, width, font), so laying out
5,000 rows costs one text layout each only once; the view lays out in batches so a long
transcript never holds the event loop. The text layout also highlights search matches and the
word being heard, and maps a click to a character (play from that word).

Editing: the editor is a QPlainTextEdit over the text; every keystroke is committed as an undo
command (merged into one step per editing session), Enter closes it, Esc undoes the session,
Ctrl+Return splits the segment at the cursor.
"""

from __future__ import annotations

import re

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from ui.transcript.edits import format_time, word_spans
from ui.transcript.models import (
    ChapterStartRole,
    PlayingRole,
    PlayingWordRole,
    SegmentRole,
    SpeakerColorRole,
    SpeakerIdRole,
    SpeakerNameRole,
    StartRole,
)


def find_all(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    if pattern is None:
        return []
    return [(m.start(), m.end() - m.start()) for m in pattern.finditer(text) if m.end() > m.start()]


class SegmentTextEdit(QPlainTextEdit):
    """The in-place editor of a segment's text."""

    def __init__(self, parent: QWidget, index: QModelIndex, session: int) -> None:
        super().__init__(parent)
        self.index = QPersistentModelIndex(index)
        self.session = session
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTabChangesFocus(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the row grows instead
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.document().setDocumentMargin(0)
        self.setAccessibleName(self.tr("Segment text"))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # The row grew to the text: show it from its first line again, cursor still in view.
        self.verticalScrollBar().setValue(0)
        self.ensureCursorVisible()


class SegmentDelegate(QStyledItemDelegate):
    text_edited = Signal(int, str, int)  # row, text, editing session
    edit_cancelled = Signal(int)  # session
    split_requested = Signal(int, int)  # row, character offset

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.width = 0
        self.search: re.Pattern[str] | None = None
        self.current_match: tuple[int, int] | None = None  # (row, offset)
        self.cursor_for_editor: int | None = None
        self._heights: dict[tuple[str, int, str], int] = {}
        self._session = 0

    # ------------------------------------------------------------------ metrics

    def _fm(self, option: QStyleOptionViewItem) -> QFontMetrics:
        return option.fontMetrics

    def _pad(self, fm: QFontMetrics) -> int:
        return max(2, fm.height() // 3)

    def _header_font(self, font: QFont) -> QFont:
        f = QFont(font)
        f.setBold(True)
        return f

    def _chapter_h(self, fm: QFontMetrics) -> int:
        return fm.height() + self._pad(fm)

    def text_rect(self, option: QStyleOptionViewItem, index: QModelIndex) -> QRect:
        fm = self._fm(option)
        pad = self._pad(fm)
        top = option.rect.top() + pad
        if index.data(ChapterStartRole) >= 0:
            top += self._chapter_h(fm)
        top += fm.height() + pad // 2
        left = option.rect.left() + 2 * pad
        return QRect(left, top, max(1, option.rect.width() - 3 * pad), max(1, option.rect.bottom() + 1 - pad - top))

    def _layout(self, text: str, font: QFont, width: int) -> tuple[QTextLayout, int]:
        layout = QTextLayout(text, font)
        opt = QTextOption()
        opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(opt)
        # Lines as far apart as the in-place editor (QPlainTextEdit) puts them, so the editor
        # shows the whole text in the room the row has.
        spacing = QFontMetrics(font).lineSpacing()
        layout.beginLayout()
        y = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            y += max(line.height(), spacing)
        layout.endLayout()
        return layout, int(y + 0.999) + 1

    def _text_height(self, text: str, font: QFont, width: int) -> int:
        key = (text, width, font.key())
        h = self._heights.get(key)
        if h is None:
            h = max(QFontMetrics(font).height(), self._layout(text, font, width)[1])
            if len(self._heights) > 50_000:
                self._heights.clear()
            self._heights[key] = h
        return h

    def clear_cache(self) -> None:
        self._heights.clear()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        fm = self._fm(option)
        pad = self._pad(fm)
        width = self.width or (option.rect.width() if option.rect.width() > 0 else fm.averageCharWidth() * 60)
        text_w = max(1, width - 3 * pad)
        h = pad + fm.height() + pad // 2 + self._text_height(index.data() or "", option.font, text_w) + pad
        if index.data(ChapterStartRole) >= 0:
            h += self._chapter_h(fm)
        return QSize(width, h)

    # ------------------------------------------------------------------ painting

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        pal = opt.palette
        fm = self._fm(opt)
        pad = self._pad(fm)
        rect = opt.rect
        seg = index.data(SegmentRole)
        color: QColor = index.data(SpeakerColorRole)
        if not color.isValid():
            color = pal.color(QPalette.ColorRole.WindowText)
        playing = bool(index.data(PlayingRole))
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        top = rect.top()
        chapter = index.data(ChapterStartRole)
        if chapter >= 0:
            ch = self.view.model().doc.transcript.chapters[chapter]
            head = QRect(rect.left() + pad, top + pad // 2, rect.width() - 2 * pad, fm.height())
            f = self._header_font(opt.font)
            painter.setFont(f)
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            title = QFontMetrics(f).elidedText("§ " + ch.title, Qt.TextElideMode.ElideRight, head.width())
            painter.drawText(head, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)
            painter.setPen(pal.color(QPalette.ColorRole.Mid))
            y = top + self._chapter_h(fm) - 1
            painter.drawLine(rect.left() + pad, y, rect.right() - pad, y)
            top += self._chapter_h(fm)
        body = QRect(rect.left(), top, rect.width(), rect.bottom() - top + 1)
        if selected or playing:
            bg = QColor(pal.color(QPalette.ColorRole.Highlight) if selected else color)
            bg.setAlpha(70 if selected else 38)
            painter.fillRect(body, bg)
        if playing:
            painter.fillRect(QRect(body.left(), body.top(), max(2, pad // 2), body.height()), color)
        if opt.state & QStyle.StateFlag.State_HasFocus:
            fo = QColor(pal.color(QPalette.ColorRole.Highlight))
            painter.setPen(fo)
            painter.drawRect(body.adjusted(0, 0, -1, -1))
        # header: time, then the speaker's name in their colour
        x = rect.left() + 2 * pad
        y = top + pad
        time_text = format_time(index.data(StartRole), with_hours=None)
        painter.setFont(opt.font)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        tw = fm.horizontalAdvance(time_text)
        painter.drawText(QRect(x, y, tw, fm.height()), int(Qt.AlignmentFlag.AlignVCenter), time_text)
        x += tw + 2 * pad
        name = index.data(SpeakerNameRole) or ""
        if name:
            hf = self._header_font(opt.font)
            painter.setFont(hf)
            painter.setPen(color)
            hfm = QFontMetrics(hf)
            name = hfm.elidedText(name, Qt.TextElideMode.ElideRight, max(1, rect.right() - pad - x))
            painter.drawText(
                QRect(x, y, hfm.horizontalAdvance(name) + 1, fm.height()), int(Qt.AlignmentFlag.AlignVCenter), name
            )
        # text with search matches and the word being heard
        tr = self.text_rect(opt, index)
        text = seg.text if seg is not None else ""
        layout, _ = self._layout(text, opt.font, tr.width())
        formats = []
        word = index.data(PlayingWordRole)
        if word is not None and word >= 0 and seg is not None:
            spans = word_spans(seg)
            if word < len(spans) and spans[word] is not None:
                s, e = spans[word]
                fr = QTextLayout.FormatRange()
                fr.start, fr.length = s, e - s
                f = QTextCharFormat()
                wb = QColor(color)
                wb.setAlpha(110)
                f.setBackground(wb)
                fr.format = f
                formats.append(fr)
        for start, length in find_all(self.search, text):
            fr = QTextLayout.FormatRange()
            fr.start, fr.length = start, length
            f = QTextCharFormat()
            current = self.current_match == (index.row(), start)
            f.setBackground(QColor("#FF9632") if current else QColor("#FFE066"))
            f.setForeground(QColor("#000000"))
            fr.format = f
            formats.append(fr)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        layout.draw(painter, QPointF(tr.topLeft()), formats)
        painter.restore()

    def char_at(self, option: QStyleOptionViewItem, index: QModelIndex, pos: QPoint) -> int | None:
        """Character offset of the text under ``pos`` (None: not on the text)."""
        tr = self.text_rect(option, index)
        if not tr.contains(pos):
            return None
        layout, _ = self._layout(index.data() or "", option.font, tr.width())
        y = pos.y() - tr.top()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            if line.y() <= y < line.y() + line.height():
                return line.xToCursor(pos.x() - tr.left())
        return None

    # ------------------------------------------------------------------ editing

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        self._session += 1
        editor = SegmentTextEdit(parent, index, self._session)
        editor.setFont(option.font)
        editor.textChanged.connect(self._on_text_changed)
        editor.installEventFilter(self)
        return editor

    def _on_text_changed(self) -> None:
        editor = self.sender()
        if isinstance(editor, SegmentTextEdit) and editor.index.isValid():
            text = editor.toPlainText().replace("\n", " ")
            if text != (editor.index.data() or ""):
                self.text_edited.emit(editor.index.row(), text, editor.session)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        text = index.data(Qt.ItemDataRole.EditRole) or ""
        if isinstance(editor, SegmentTextEdit):
            if editor.toPlainText() == text:
                return  # the model follows the editor while typing: leave the cursor alone
            editor.blockSignals(True)
            editor.setPlainText(text)
            editor.blockSignals(False)
            cursor = editor.textCursor()
            pos = self.cursor_for_editor
            self.cursor_for_editor = None
            cursor.setPosition(len(text) if pos is None else max(0, min(len(text), pos)))
            editor.setTextCursor(cursor)

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        if isinstance(editor, SegmentTextEdit):
            text = editor.toPlainText().replace("\n", " ")
            if text != index.data(Qt.ItemDataRole.EditRole):
                self.text_edited.emit(index.row(), text, editor.session)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        r = self.text_rect(option, index)
        fm = option.fontMetrics
        editor.setGeometry(r.adjusted(0, 0, 0, max(0, fm.height() - r.height()) if r.height() < fm.height() else 0))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if isinstance(obj, SegmentTextEdit) and event.type() == QEvent.Type.KeyPress:
            ev: QKeyEvent = event
            key, mods = ev.key(), ev.modifiers()
            ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if ctrl:
                    row, pos = obj.index.row(), obj.textCursor().position()
                    self.commitData.emit(obj)
                    self.closeEditor.emit(obj, QStyledItemDelegate.EndEditHint.NoHint)
                    self.split_requested.emit(row, pos)
                    return True
                if not mods & Qt.KeyboardModifier.ShiftModifier:
                    self.commitData.emit(obj)
                    self.closeEditor.emit(obj, QStyledItemDelegate.EndEditHint.NoHint)
                    return True
                return True  # no line breaks inside a segment
            if key == Qt.Key.Key_Escape:
                session = obj.session
                self.closeEditor.emit(obj, QStyledItemDelegate.EndEditHint.RevertModelCache)
                self.edit_cancelled.emit(session)
                return True
        return super().eventFilter(obj, event)


class SegmentView(QListView):
    """The list of segments; tells the delegate its width, keeps heights right on resize."""

    clicked_at = Signal(int, int)  # row, character offset (-1: not on the text)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.delegate = SegmentDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setAccessibleName(self.tr("Transcript segments"))

    # Roles whose change cannot change a row's height: no relayout for them.
    _PAINT_ONLY = frozenset(
        int(r)
        for r in (
            PlayingRole,
            PlayingWordRole,
            SpeakerNameRole,
            SpeakerColorRole,
            SpeakerIdRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.AccessibleTextRole,
        )
    )

    def dataChanged(self, top_left: QModelIndex, bottom_right: QModelIndex, roles=()) -> None:
        """QListView lays out every row again on any dataChanged (0.1 s at 5,000 segments):
        do that only when a row's height can have changed (new text: only if it did)."""
        roles = [int(r) for r in roles or ()]
        paint_only = bool(roles) and all(r in self._PAINT_ONLY for r in roles)
        if not paint_only and top_left.row() == bottom_right.row() and top_left.isValid():
            # The height the row was laid out with is the distance to the next row (visualRect
            # itself asks the delegate again, so it already has the new height).
            nxt = top_left.sibling(top_left.row() + 1, 0)
            top = self.visualRect(top_left).top()
            if nxt.isValid():
                old = self.visualRect(nxt).top() - top
            else:  # the last row reaches the end of the contents
                old = self.contentsSize().height() - (top + self.verticalOffset())
            opt = self.option_for(top_left)
            paint_only = old > 0 and self.delegate.sizeHint(opt, top_left).height() == old
        if paint_only:
            QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)  # repaint, no relayout
            return
        super().dataChanged(top_left, bottom_right, roles)
        self.scheduleDelayedItemsLayout()  # rows below a taller or shorter one move

    def resizeEvent(self, event) -> None:
        w = self.viewport().width()
        if w != self.delegate.width:
            self.delegate.width = w
            self.scheduleDelayedItemsLayout()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.delegate.clear_cache()
            self.scheduleDelayedItemsLayout()
        super().changeEvent(event)

    def option_for(self, index: QModelIndex) -> QStyleOptionViewItem:
        opt = QStyleOptionViewItem()
        self.initViewItemOption(opt)
        opt.rect = self.visualRect(index)
        return opt

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            return  # extending the selection, not playing
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            offset = self.delegate.char_at(self.option_for(index), index, event.position().toPoint())
            self.clicked_at.emit(index.row(), -1 if offset is None else offset)

    def mouseDoubleClickEvent(self, event) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            self.delegate.cursor_for_editor = self.delegate.char_at(
                self.option_for(index), index, event.position().toPoint()
            )
        super().mouseDoubleClickEvent(event)
