"""The Library view: every meeting, newest first, and a search across all of them.

Keyboard: type to search (results follow as you type), Down or Enter goes to the results, Enter
opens, F2 renames, Del deletes (it asks), Esc clears the search, Ctrl+F comes back to the box.
The index is brought up to date with the meeting files in a worker thread; listing and searching
run in the GUI thread (a few milliseconds over 200 meetings: bench/library_search.py).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.library import Library, LibraryError, query_terms
from ui.library.delegate import HitDelegate, MeetingDelegate
from ui.library.model import HitListModel, MeetingListModel

log = logging.getLogger("minutes.ui.library")


class _Relay(QObject):
    """Lives in the GUI thread; the sync worker emits through it (queued to the view's slot)."""

    synced = Signal(int)


class LibraryView(QWidget):
    meeting_opened = Signal(str)  # meeting id: open it in the editor
    hit_opened = Signal(str, float)  # meeting id, seconds: open it at the matching segment
    meeting_deleted = Signal(str)  # meeting id, after it was deleted
    meeting_renamed = Signal(str, str)  # meeting id, new title
    synced = Signal(int)  # the background index update finished (meetings reindexed; -1: failed)

    SEARCH_DELAY_MS = 150  # debounce: search once typing pauses this long
    HIT_LIMIT = 200

    PAGE_MEETINGS, PAGE_HITS, PAGE_EMPTY, PAGE_NO_HITS = range(4)

    def __init__(self, library: Library, parent: QWidget | None = None, *, sync: bool = True):
        super().__init__(parent)
        self.library = library
        self._syncing = False
        self._relay = _Relay(self)
        self._relay.synced.connect(self._on_synced)

        self.search_box = QLineEdit(self)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setPlaceholderText(self.tr("Search all meetings"))
        self.search_box.setAccessibleName(self.tr("Search all meetings"))
        self.search_box.installEventFilter(self)

        self.summary = QLabel(self)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.meeting_model = MeetingListModel(self)
        self.meeting_list = self._list_view(self.meeting_model, MeetingDelegate(self))
        self.meeting_list.setAccessibleName(self.tr("Meetings"))
        self.hit_model = HitListModel(self)
        self.hit_list = self._list_view(self.hit_model, HitDelegate(self))
        self.hit_list.setAccessibleName(self.tr("Search results"))

        empty, self.empty_heading, self.empty_label = self._message_page("", "")  # texts set in _show
        no_hits, self.no_hits_heading, self.no_hits_label = self._message_page(self.tr("Nothing found"), "")

        self.pages = QStackedWidget(self)
        for page in (self.meeting_list, self.hit_list, empty, no_hits):
            self.pages.addWidget(page)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)

        self.open_action = self._action(self.tr("&Open"), self._open_current)
        self.open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.rename_action = self._action(self.tr("&Rename…"), self.rename_current, QKeySequence(Qt.Key.Key_F2))
        self.delete_action = self._action(self.tr("&Delete…"), self.delete_current)
        self.delete_action.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence(Qt.Key.Key_Backspace)]
        )
        for view in (self.meeting_list, self.hit_list):
            view.addActions([self.open_action, self.rename_action, self.delete_action])
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.find_action = QAction(self.tr("&Find in meetings"), self)
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.find_action.triggered.connect(self.focus_search)
        self.addAction(self.find_action)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)
        self.search_box.textChanged.connect(self._on_text)
        self.meeting_model.title_edited.connect(self._on_title_edited)
        self.pages.currentChanged.connect(self._update_actions)

        self.setFocusProxy(self.search_box)
        self.reload()
        if sync:
            self.sync_in_background()

    # -- building ---------------------------------------------------------------------------

    def _list_view(self, model, delegate) -> QListView:
        view = QListView(self)
        view.setModel(model)
        view.setItemDelegate(delegate)
        view.setUniformItemSizes(True)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.activated.connect(self._open)  # Enter, and a double click (or a click, where the style says so)
        return view

    def _message_page(self, heading: str, text: str) -> tuple[QWidget, QLabel, QLabel]:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        title = QLabel(heading, page)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        title.setFont(font)
        body = QLabel(text, page)
        for label in (title, body):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setTextFormat(Qt.TextFormat.PlainText)
        lay.addStretch(1)
        lay.addWidget(title)
        lay.addWidget(body)
        lay.addStretch(2)
        return page, title, body

    def _action(self, text: str, slot, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(slot)
        return action

    # -- contents ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the meeting list from the library again (and repeat the search, if any)."""
        current = self.current_meeting_id()
        try:
            meetings = self.library.list()
        except LibraryError as e:
            self._error(str(e))
            meetings = []
        self.meeting_model.set_meetings(meetings)
        self.hit_model.titles = {m.id: self.meeting_model.title(m) for m in meetings}
        self.hit_model.previews = {m.id: m.preview for m in meetings}
        row = self.meeting_model.row_of(current) if current else -1
        if meetings:
            self.meeting_list.setCurrentIndex(self.meeting_model.index(max(row, 0), 0))
        if query_terms(self.search_box.text()):
            self._search()
        else:
            self._show()

    def sync_in_background(self) -> None:
        """Bring the index up to date with the meeting files in a worker thread; the list reloads
        when something changed, and ``synced`` is emitted."""
        if self._syncing:
            return
        self._syncing = True
        if not self.meeting_model.rowCount():
            self._show()
        library, relay = self.library, self._relay

        def work() -> None:
            try:
                n = library.sync()
            except Exception:  # the window stays; the log has the reason
                log.exception("Library sync failed")
                n = -1
            try:
                relay.synced.emit(n)
            except RuntimeError:  # the view was closed meanwhile
                pass

        threading.Thread(target=work, name="library-sync", daemon=True).start()

    @Slot(int)
    def _on_synced(self, n: int) -> None:
        self._syncing = False
        self.reload()  # a few milliseconds; also after a rebuild that found nothing
        self.synced.emit(n)

    def current_meeting_id(self) -> str | None:
        if self.pages.currentIndex() == self.PAGE_HITS:
            hit = self.hit_model.hit(self.hit_list.currentIndex().row())
            return hit.meeting_id if hit else None
        m = self.meeting_model.meeting(self.meeting_list.currentIndex().row())
        return m.id if m else None

    def _show(self) -> None:
        query = self.search_box.text().strip()
        n = self.meeting_model.rowCount()
        self.search_box.setEnabled(n > 0 or bool(query))
        if not query_terms(query):
            if not n and self._syncing:  # a first start rebuilding the index: not "no meetings" yet
                self.empty_heading.setText(self.tr("Opening the library…"))
                self.empty_label.setText(self.tr("Reading the meetings on this computer."))
            elif not n:
                self.empty_heading.setText(self.tr("No meetings yet"))
                self.empty_label.setText(
                    self.tr("Drop a recording on the window or start a live meeting: it will be listed here.")
                )
            self.pages.setCurrentIndex(self.PAGE_MEETINGS if n else self.PAGE_EMPTY)
            self.summary.setText(self.tr("1 meeting") if n == 1 else self.tr("%n meetings", "", n))
            self.summary.setVisible(n > 0)
        elif self.hit_model.rowCount():
            hits = self.hit_model.rowCount()
            text = self.tr("1 match") if hits == 1 else self.tr("%n matches", "", hits)
            if hits >= self.HIT_LIMIT:
                text = self.tr("The first %n matches", "", hits)
            self.summary.setText(text)
            self.summary.setVisible(True)
            self.pages.setCurrentIndex(self.PAGE_HITS)
        else:
            self.no_hits_label.setText(self.tr("No meeting mentions “%1”.").replace("%1", query))
            self.summary.setVisible(False)
            self.pages.setCurrentIndex(self.PAGE_NO_HITS)
        self._update_actions()

    @Slot()
    def _update_actions(self, *_args) -> None:
        page = self.pages.currentIndex()
        has = page in (self.PAGE_MEETINGS, self.PAGE_HITS)
        self.open_action.setEnabled(has)
        self.delete_action.setEnabled(has)
        self.rename_action.setEnabled(page == self.PAGE_MEETINGS)

    # -- searching --------------------------------------------------------------------------

    @Slot(str)
    def _on_text(self, text: str) -> None:
        if query_terms(text):
            self._timer.start()
        else:  # cleared: the list comes back at once
            self._timer.stop()
            self.hit_model.set_hits([])
            self._show()

    @Slot()
    def _search(self) -> None:
        self._timer.stop()
        query = self.search_box.text()
        hits = self.library.search(query, limit=self.HIT_LIMIT) if query_terms(query) else []
        self.hit_model.set_hits(hits, query)
        if hits:
            self.hit_list.setCurrentIndex(self.hit_model.index(0, 0))
        self._show()

    def search(self, query: str) -> None:
        """Search now (no debounce): what typing ``query`` into the box does."""
        self.search_box.setText(query)
        self._search()

    @Slot()
    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _visible_list(self) -> QListView | None:
        page = self.pages.currentIndex()
        if page == self.PAGE_MEETINGS:
            return self.meeting_list
        if page == self.PAGE_HITS:
            return self.hit_list
        return None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.search_box and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_PageDown):
                if self._timer.isActive():
                    self._search()
                view = self._visible_list()
                if view is not None and view.model().rowCount():
                    if not view.currentIndex().isValid():
                        view.setCurrentIndex(view.model().index(0, 0))
                    view.setFocus(Qt.FocusReason.OtherFocusReason)
                    return True
            elif key == Qt.Key.Key_Escape and self.search_box.text():
                self.search_box.clear()
                return True
        return super().eventFilter(obj, event)

    # -- actions ----------------------------------------------------------------------------

    @Slot(QModelIndex)
    def _open(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        if index.model() is self.hit_model:
            hit = self.hit_model.hit(index.row())
            if hit is None:
                return
            if hit.in_title:
                self.meeting_opened.emit(hit.meeting_id)
            else:
                self.hit_opened.emit(hit.meeting_id, float(hit.start))
        else:
            m = self.meeting_model.meeting(index.row())
            if m is not None:
                self.meeting_opened.emit(m.id)

    @Slot()
    def _open_current(self) -> None:
        view = self._visible_list()
        if view is not None:
            self._open(view.currentIndex())

    @Slot()
    def rename_current(self) -> None:
        """Edit the current meeting's title in place (F2)."""
        if self.pages.currentIndex() != self.PAGE_MEETINGS:
            return
        index = self.meeting_list.currentIndex()
        if index.isValid():
            self.meeting_list.setFocus(Qt.FocusReason.OtherFocusReason)
            self.meeting_list.edit(index)

    @Slot(str, str)
    def _on_title_edited(self, meeting_id: str, title: str) -> None:
        try:
            m = self.library.rename(meeting_id, title)
        except LibraryError as e:
            self._error(str(e))
            self.reload()
            return
        self.meeting_model.replace(m)
        shown = self.meeting_model.title(m)
        self.hit_model.titles[meeting_id] = shown
        self.hit_model.rename_meeting(meeting_id, m.title)
        self.meeting_renamed.emit(meeting_id, m.title)

    @Slot()
    def delete_current(self) -> None:
        """Delete the current meeting (Del), after asking; the recording is kept unless ticked."""
        meeting_id = self.current_meeting_id()
        if not meeting_id:
            return
        try:
            m = self.library.get(meeting_id)
        except LibraryError as e:
            self._error(str(e))
            self.reload()
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Delete meeting"))
        box.setText(self.tr("Delete “%1”?").replace("%1", self.meeting_model.title(m)))
        offer_audio = self.library.owns_audio(m) and m.audio_exists
        if offer_audio:
            box.setInformativeText(self.tr("The transcript and its edits will be deleted."))
            box.setCheckBox(QCheckBox(self.tr("Also delete the recording"), box))
        elif m.audio_path:
            box.setInformativeText(
                self.tr("The transcript and its edits will be deleted. The recording stays where it is:\n%1").replace(
                    "%1", m.audio_path
                )
            )
        else:
            box.setInformativeText(self.tr("The transcript and its edits will be deleted."))
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Delete"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        if answer != QMessageBox.StandardButton.Yes:
            return
        delete_audio = bool(offer_audio and box.checkBox() is not None and box.checkBox().isChecked())
        try:
            self.library.delete(meeting_id, delete_audio=delete_audio)
        except LibraryError as e:
            self._error(str(e))
            self.reload()
            return
        self.meeting_model.remove(meeting_id)
        self.hit_model.remove_meeting(meeting_id)
        self.hit_model.titles.pop(meeting_id, None)
        self.hit_model.previews.pop(meeting_id, None)
        self._show()
        self.meeting_deleted.emit(meeting_id)

    def _error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("Library"), message)
