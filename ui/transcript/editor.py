"""TranscriptEditor: the Transcript view of the main window.

The window embeds one editor and calls ``set_transcript``; everything else happens here:
segments in a list with a painting delegate, in-place text editing, speakers (rename, merge,
reassign, voice profile), split/join, chapters sidebar, search, the speaker timeline, playback
and autosave. Every edit is a command on ``undo_stack()``; ``transcript()`` is always the edited
transcript. Nothing slow runs in the GUI thread: audio is decoded and the JSON written in
QThreadPool runnables whose results come back through queued signals to slots here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.audio.playback import Player, clamp_speed, to_int16
from engine.transcript import Speaker, Transcript
from ui.transcript.autosave import Autosaver
from ui.transcript.commands import (
    EditTextCommand,
    JoinCommand,
    MergeSpeakersCommand,
    MoveChapterStartCommand,
    ReassignCommand,
    RelinkAudioCommand,
    RenameChapterCommand,
    RenameSpeakerCommand,
    SplitCommand,
)
from ui.transcript.delegate import SegmentTextEdit, SegmentView, find_all
from ui.transcript.edits import new_speaker_id, snapshot, word_at_char, word_at_time
from ui.transcript.models import TranscriptDocument
from ui.transcript.player_bar import SPEEDS, PlayerBar
from ui.transcript.timeline import SpeakerTimeline

POLL_MS = 33  # playback position polled ~30 times a second while playing
SEEK_STEP = 5.0


class _AudioRelay(QObject):
    loaded = Signal(int, object, str)  # generation, samples (np.ndarray) or None, error


class _AudioLoadTask(QRunnable):
    def __init__(self, relay: _AudioRelay, generation: int, path: str) -> None:
        super().__init__()
        self.relay, self.generation, self.path = relay, generation, path

    def run(self) -> None:  # a pool thread
        from engine.audio.decode import load_audio
        from engine.errors import MinutesError

        try:
            samples = to_int16(load_audio(self.path))
        except MinutesError as e:
            self._emit(None, str(e))
            return
        except Exception as e:  # never a dead editor
            self._emit(None, f"{type(e).__name__}: {e}")
            return
        self._emit(samples, "")

    def _emit(self, samples, error: str) -> None:
        try:
            self.relay.loaded.emit(self.generation, samples, error)
        except RuntimeError:  # the editor was closed while the file was decoding
            pass


class TranscriptEditor(QWidget):
    """See the module docstring. Public API: set_transcript, transcript, undo_stack, actions."""

    changed = Signal()
    saved = Signal(str)
    save_failed = Signal(str)
    voice_profile_requested = Signal(str, str)  # speaker id, name
    audio_missing = Signal(str)
    status_message = Signal(str)  # a short note for the window's status bar

    def __init__(self, parent: QWidget | None = None, player: Player | None = None) -> None:
        super().__init__(parent)
        self._doc = TranscriptDocument(self)
        self._undo = QUndoStack(self)
        self._player = player if player is not None else Player()
        self._audio_path: str | None = None
        self._audio_ready = False
        self._audio_generation = 0
        self._audio_relay = _AudioRelay(self)
        self._audio_relay.loaded.connect(self._on_audio_loaded)
        self._loading = False
        self._matches: list[tuple[int, int]] = []
        self._pattern: re.Pattern[str] | None = None
        self._match_index = -1
        self._last_playing_row = -1
        self._last_click: tuple[int, int] | None = None
        self._autosaver = Autosaver(lambda: snapshot(self._doc.transcript), self)
        self._autosaver.saved.connect(self.saved)
        self._autosaver.failed.connect(self._on_save_failed)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_tick)
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.setInterval(6000)
        self._build_ui()
        self._build_actions()
        self._connect()
        self._update_dark()
        self._update_enabled()

    # ================================================================== public API

    def set_transcript(self, transcript: Transcript, audio_path: str | None, save_path: str | None) -> None:
        """Show ``transcript`` for editing; play ``audio_path``; autosave to ``save_path``."""
        self._loading = True
        try:
            self._autosaver.detach()
            self._player.pause()
            self._poll.stop()
            self._undo.clear()
            self._doc.set_transcript(snapshot(transcript))
            self._autosaver.set_path(save_path)
            self._match_index = -1
            self._last_playing_row = -1
            self._last_click = None
            self._search_changed(self.search_field.text())
            self.timeline.set_position(0.0)
            self.bar.set_duration(transcript.audio.duration)
            self.bar.set_position(0.0)
            self.bar.set_playing(False)
            self._set_loop(False)
            self._chapters_changed()
            if self._doc.segments.rowCount():
                self.view.setCurrentIndex(self._doc.segments.index(0, 0))
            self.view.scrollToTop()
        finally:
            self._loading = False
        self._load_audio(self._resolve_audio(audio_path, save_path))
        self._update_enabled()

    def transcript(self) -> Transcript:
        """The transcript with every edit so far (a copy: safe to hand to an export worker)."""
        return snapshot(self._doc.transcript)

    def undo_stack(self) -> QUndoStack:
        return self._undo

    def actions(self) -> list[QAction]:  # noqa: D102 - QWidget.actions() returns these too
        return list(self._public_actions)

    # ------------------------------------------------------------------ more, for the window and tests

    def player(self) -> Player:
        return self._player

    def document(self) -> TranscriptDocument:
        return self._doc

    def save_path(self) -> str | None:
        return self._autosaver.path

    def audio_path(self) -> str | None:
        return self._audio_path

    def is_saved(self) -> bool:
        return not self._autosaver.dirty

    def save_now(self) -> None:
        """Write now (in the background) instead of after the autosave pause."""
        self._autosaver.save_now()

    def flush(self, timeout_ms: int = 30000) -> bool:
        """Write what is unsaved and wait for it (call before the window closes)."""
        return self._autosaver.flush(timeout_ms)

    def set_autosave_delay(self, ms: int) -> None:
        self._autosaver.set_interval(ms)

    def close_player(self) -> None:
        self._poll.stop()
        self._player.close()

    # ================================================================== UI

    def _build_ui(self) -> None:
        fm = self.fontMetrics()
        gap = max(2, fm.height() // 4)
        root = QVBoxLayout(self)
        root.setContentsMargins(gap, gap, gap, gap)
        root.setSpacing(gap)

        # search row
        row = QHBoxLayout()
        self.search_field = QLineEdit(self)
        self.search_field.setPlaceholderText(self.tr("Find in transcript (Ctrl+F)"))
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setAccessibleName(self.tr("Find in transcript"))
        self.search_field.installEventFilter(self)
        self.prev_button = QToolButton(self)
        self.prev_button.setText(self.tr("Previous"))
        self.prev_button.setToolTip(self.tr("Previous match (Shift+F3)"))
        self.next_button = QToolButton(self)
        self.next_button.setText(self.tr("Next"))
        self.next_button.setToolTip(self.tr("Next match (F3)"))
        self.match_label = QLabel(self)
        self.hint_label = QLabel(self)
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.search_field, 3)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(self.match_label)
        row.addWidget(self.hint_label, 2)
        root.addLayout(row)

        # audio banner (missing or unreadable audio)
        self.banner = QFrame(self)
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setAutoFillBackground(True)
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(gap, gap, gap, gap)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.relink_button = QPushButton(self.tr("Relink audio…"), self.banner)
        bl.addWidget(self.banner_label, 1)
        bl.addWidget(self.relink_button)
        self.banner.setVisible(False)
        root.addWidget(self.banner)

        # sidebar: chapters, speakers | segments
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        side = QSplitter(Qt.Orientation.Vertical, self.splitter)
        chapters_box = QWidget(side)
        cl = QVBoxLayout(chapters_box)
        cl.setContentsMargins(0, 0, 0, 0)
        self.chapters_title = QLabel(self.tr("Chapters"), chapters_box)
        self._bold(self.chapters_title)
        self.chapters_stack = QStackedWidget(chapters_box)
        self.chapter_view = QListView(self.chapters_stack)
        self.chapter_view.setModel(self._doc.chapters)
        self.chapter_view.setWordWrap(True)
        self.chapter_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.chapter_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.chapter_view.setAccessibleName(self.tr("Chapters"))
        self.no_chapters = QLabel(self.tr("This meeting has no chapters."), self.chapters_stack)
        self.no_chapters.setWordWrap(True)
        self.no_chapters.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.no_chapters.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.chapters_stack.addWidget(self.chapter_view)
        self.chapters_stack.addWidget(self.no_chapters)
        self.chapters_title.setBuddy(self.chapter_view)
        cl.addWidget(self.chapters_title)
        cl.addWidget(self.chapters_stack, 1)

        speakers_box = QWidget(side)
        sl = QVBoxLayout(speakers_box)
        sl.setContentsMargins(0, 0, 0, 0)
        self.speakers_title = QLabel(self.tr("Speakers"), speakers_box)
        self._bold(self.speakers_title)
        self.speaker_view = QTableView(speakers_box)
        self.speaker_view.setModel(self._doc.speakers)
        self.speaker_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.speaker_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.speaker_view.verticalHeader().setVisible(False)
        self.speaker_view.setShowGrid(False)
        self.speaker_view.setWordWrap(False)
        hh = self.speaker_view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.speaker_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.speaker_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.speaker_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.speaker_view.setAccessibleName(self.tr("Speakers and talk time"))
        self.speakers_title.setBuddy(self.speaker_view)
        self.speakers_stack = QStackedWidget(speakers_box)
        self.no_speakers = QLabel(
            self.tr(
                "No speakers: this transcript was made without telling voices apart. "
                "Give a segment a speaker with Ctrl+0."
            ),
            self.speakers_stack,
        )
        self.no_speakers.setWordWrap(True)
        self.no_speakers.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.no_speakers.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.speakers_stack.addWidget(self.speaker_view)
        self.speakers_stack.addWidget(self.no_speakers)
        sl.addWidget(self.speakers_title)
        sl.addWidget(self.speakers_stack, 1)
        # Speakers (a short legend with talk time) above, chapters take the rest.
        side.addWidget(speakers_box)
        side.addWidget(chapters_box)
        side.setStretchFactor(0, 0)
        side.setStretchFactor(1, 1)
        side.setChildrenCollapsible(False)
        self.sidebar = side

        self.view = SegmentView(self.splitter)
        self.view.setModel(self._doc.segments)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.splitter.addWidget(side)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        side_w = fm.averageCharWidth() * 44  # "Speaker 8", talk time and share without eliding
        self.splitter.setSizes([side_w, side_w * 3])
        side.setSizes([fm.height() * 8, fm.height() * 20])
        root.addWidget(self.splitter, 1)

        # timeline and player: always visible under the transcript
        self.timeline = SpeakerTimeline(self._doc, self)
        root.addWidget(self.timeline)
        self.bar = PlayerBar(self)
        root.addWidget(self.bar)
        self.setFocusProxy(self.view)

    def _bold(self, label: QLabel) -> None:
        f = label.font()
        f.setBold(True)
        label.setFont(f)

    def _action(self, name: str, text: str, shortcut, slot, tip: str | None = None) -> QAction:
        a = QAction(text, self)
        a.setObjectName(name)
        if shortcut is not None:
            seqs = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(s) for s in seqs])
        a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_undo = self._undo.createUndoAction(self, self.tr("Undo"))
        self.act_undo.setObjectName("undo")
        self.act_undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        self.act_redo = self._undo.createRedoAction(self, self.tr("Redo"))
        self.act_redo.setObjectName("redo")
        self.act_redo.setShortcuts(QKeySequence.keyBindings(K.Redo))
        for a in (self.act_undo, self.act_redo):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(a)
        self.act_save = self._action("save", self.tr("Save"), K.Save, self.save_now, self.tr("Save the transcript now"))
        self.act_find = self._action("find", self.tr("Find…"), K.Find, self.focus_search)
        self.act_find_next = self._action("find_next", self.tr("Find next"), [K.FindNext], self.find_next)
        self.act_find_prev = self._action(
            "find_previous", self.tr("Find previous"), [K.FindPrevious], self.find_previous
        )
        self.act_edit = self._action(
            "edit_text", self.tr("Edit text"), "F2", self._edit_current, self.tr("Edit the selected segment's text")
        )
        self.act_split = self._action(
            "split",
            self.tr("Split segment here"),
            "Ctrl+Return",
            self._split_current,
            self.tr("Split the segment at the cursor or the word clicked last"),
        )
        self.act_join = self._action("join", self.tr("Join with next segment"), "Ctrl+J", self._join_current)
        self.act_rename_speaker = self._action(
            "rename_speaker", self.tr("Rename speaker…"), "Ctrl+R", self._rename_speaker_dialog
        )
        self.act_merge = self._action("merge_speakers", self.tr("Merge speakers…"), "Ctrl+M", self._merge_dialog)
        self.act_assign = self._action(
            "assign_speaker", self.tr("Change speaker…"), "Ctrl+Shift+A", self._assign_dialog
        )
        self.assign_menu = QMenu(self.tr("Assign to speaker"), self)
        self.act_assign.setMenu(self.assign_menu)
        self._assign_actions: list[QAction] = []
        self.act_voice = self._action(
            "voice_profile",
            self.tr("Save speaker as voice profile…"),
            "Ctrl+Shift+V",
            self._voice_profile_dialog,
            self.tr("Remember this voice so later meetings name the speaker"),
        )
        self.act_rename_chapter = self._action(
            "rename_chapter", self.tr("Rename chapter…"), "Ctrl+Shift+R", self._rename_chapter_current
        )
        self.act_move_chapter = self._action(
            "move_chapter_start",
            self.tr("Start chapter at selected segment"),
            "Ctrl+B",
            self._move_chapter_current,
            self.tr("Move the chapter boundary to the selected segment"),
        )
        self.act_play = self._action("play_pause", self.tr("Play/Pause"), "Space", self.toggle_play)
        self.act_play_segment = self._action(
            "play_segment", self.tr("Play selected segment"), "Ctrl+Space", self._play_current
        )
        self.act_loop = self._action(
            "loop_segment", self.tr("Loop segment"), "Ctrl+L", lambda: self._set_loop(not self._loop_on)
        )
        self.act_loop.setCheckable(True)
        self._loop_on = False
        self.act_slower = self._action("slower", self.tr("Slower"), "Ctrl+[", lambda: self._step_speed(-1))
        self.act_faster = self._action("faster", self.tr("Faster"), "Ctrl+]", lambda: self._step_speed(1))
        self.act_back = self._action(
            "seek_back", self.tr("Back 5 seconds"), "Alt+Left", lambda: self.seek(self._player.position - SEEK_STEP)
        )
        self.act_forward = self._action(
            "seek_forward",
            self.tr("Forward 5 seconds"),
            "Alt+Right",
            lambda: self.seek(self._player.position + SEEK_STEP),
        )
        self.act_relink = self._action(
            "relink_audio",
            self.tr("Relink audio…"),
            "Ctrl+Shift+L",
            self._relink_dialog,
            self.tr("Point the transcript at its moved or renamed recording"),
        )
        self.act_go_transcript = self._action(
            "go_transcript",
            self.tr("Go to transcript"),
            "Alt+1",
            lambda: self.view.setFocus(Qt.FocusReason.ShortcutFocusReason),
        )
        self.act_go_speakers = self._action(
            "go_speakers",
            self.tr("Go to speakers"),
            "Alt+2",
            lambda: self.speaker_view.setFocus(Qt.FocusReason.ShortcutFocusReason),
        )
        self.act_go_chapters = self._action(
            "go_chapters",
            self.tr("Go to chapters"),
            "Alt+3",
            lambda: self.chapter_view.setFocus(Qt.FocusReason.ShortcutFocusReason),
        )
        self.act_go_timeline = self._action(
            "go_timeline",
            self.tr("Go to timeline"),
            "Alt+4",
            lambda: self.timeline.setFocus(Qt.FocusReason.ShortcutFocusReason),
        )
        self._public_actions = [
            self.act_undo,
            self.act_redo,
            self.act_save,
            self.act_find,
            self.act_find_next,
            self.act_find_prev,
            self.act_edit,
            self.act_split,
            self.act_join,
            self.act_rename_speaker,
            self.act_merge,
            self.act_assign,
            self.act_voice,
            self.act_rename_chapter,
            self.act_move_chapter,
            self.act_play,
            self.act_play_segment,
            self.act_loop,
            self.act_slower,
            self.act_faster,
            self.act_back,
            self.act_forward,
            self.act_relink,
            self.act_go_transcript,
            self.act_go_speakers,
            self.act_go_chapters,
            self.act_go_timeline,
        ]

    def _rebuild_assign_menu(self) -> None:
        for a in self._assign_actions:
            self.removeAction(a)
            a.deleteLater()
        self._assign_actions = []
        self.assign_menu.clear()
        ids = self._doc.speaker_ids()
        for i, sid in enumerate(ids):
            a = QAction(self._doc.speaker_name(sid), self)
            if i < 9:
                a.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(lambda _=False, s=sid: self.assign_selected(s))
            self.addAction(a)
            self.assign_menu.addAction(a)
            self._assign_actions.append(a)
        self.assign_menu.addSeparator()
        new = QAction(self.tr("New speaker"), self)
        new.setShortcut(QKeySequence("Ctrl+0"))
        new.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new.triggered.connect(lambda: self.assign_selected(None))
        self.addAction(new)
        self.assign_menu.addAction(new)
        self._assign_actions.append(new)

    def _connect(self) -> None:
        d = self._doc
        self._undo.indexChanged.connect(self._on_edited)
        d.text_edit_requested.connect(lambda row, text: self.edit_text(row, text))
        d.rename_speaker_requested.connect(self.rename_speaker)
        d.rename_chapter_requested.connect(self.rename_chapter)
        d.speakers_changed.connect(self._rebuild_assign_menu)
        d.speakers_changed.connect(self._speakers_changed)
        d.chapters_changed.connect(self._chapters_changed)
        d.changed.connect(self._content_changed)
        self.view.delegate.text_edited.connect(self._on_typing)
        self.view.delegate.edit_cancelled.connect(self._on_edit_cancelled)
        self.view.delegate.split_requested.connect(self.split_segment)
        self.view.clicked_at.connect(self._on_segment_clicked)
        self.view.activated.connect(lambda ix: self.play_from(self._doc.transcript.segments[ix.row()].start))
        self.view.customContextMenuRequested.connect(self._segment_menu)
        self.view.selectionModel().currentChanged.connect(lambda *_: self._update_enabled())
        self.chapter_view.clicked.connect(self._jump_to_chapter)
        self.chapter_view.activated.connect(self._jump_to_chapter)
        self.speaker_view.customContextMenuRequested.connect(self._speaker_menu)
        self.search_field.textChanged.connect(self._search_changed)
        self.search_field.returnPressed.connect(self.find_next)
        self.next_button.clicked.connect(self.find_next)
        self.prev_button.clicked.connect(self.find_previous)
        self.relink_button.clicked.connect(self._relink_dialog)
        self.timeline.seek_requested.connect(self._on_timeline_seek)
        self.bar.play_toggled.connect(self.toggle_play)
        self.bar.seek_requested.connect(self.seek)
        self.bar.speed_changed.connect(self.set_speed)
        self.bar.loop_toggled.connect(self._set_loop)
        self._hint_timer.timeout.connect(lambda: self.hint_label.clear())

    # ================================================================== edits (public: the window and tests)

    def edit_text(self, row: int, text: str, session: int = 0) -> None:
        if 0 <= row < self._doc.segments.rowCount() and text != self._doc.transcript.segments[row].text:
            self._undo.push(EditTextCommand(self._doc, row, text, session))

    def rename_speaker(self, speaker_id: str, name: str) -> None:
        name = name.strip()
        if name and name != self._doc.speaker_name(speaker_id):
            self._undo.push(RenameSpeakerCommand(self._doc, speaker_id, name))

    def merge_speakers(self, keep: str, drop: str) -> None:
        """Every segment and turn of ``drop`` becomes ``keep``'s; ``drop`` leaves the list."""
        if keep != drop and drop in self._doc.speaker_ids():
            self._undo.push(MergeSpeakersCommand(self._doc, keep, drop))

    def reassign(self, rows: list[int], speaker_id: str | None) -> None:
        """Give segments to ``speaker_id`` (None: a new speaker)."""
        rows = sorted({r for r in rows if 0 <= r < self._doc.segments.rowCount()})
        if not rows:
            return
        new = None
        if speaker_id is None:
            speaker_id = new_speaker_id(self._doc.transcript.speakers, self._doc.transcript.segments)
            n = speaker_id[1:] if speaker_id[1:].isdigit() else str(len(self._doc.speaker_ids()) + 1)
            new = Speaker(speaker_id, self.tr("Speaker {n}").format(n=n))
        rows = [r for r in rows if self._doc.transcript.segments[r].speaker != speaker_id]
        if rows:
            self._undo.push(ReassignCommand(self._doc, rows, speaker_id, new))

    def assign_selected(self, speaker_id: str | None) -> None:
        self.reassign(self._selected_rows(), speaker_id)

    def split_segment(self, row: int, offset: int) -> bool:
        if not 0 <= row < self._doc.segments.rowCount():
            return False
        cmd = SplitCommand(self._doc, row, offset)
        self._last_click = None
        if not cmd.valid:
            self._hint(self.tr("Put the cursor between two words to split there."))
            return False
        self._undo.push(cmd)
        self.view.setCurrentIndex(self._doc.segments.index(row + 1, 0))
        return True

    def join_with_next(self, row: int) -> bool:
        if not 0 <= row < self._doc.segments.rowCount() - 1:
            self._hint(self.tr("There is no next segment to join."))
            return False
        self._last_click = None
        self._undo.push(JoinCommand(self._doc, row))
        self.view.setCurrentIndex(self._doc.segments.index(row, 0))
        return True

    def rename_chapter(self, index: int, title: str) -> None:
        title = title.strip()
        chapters = self._doc.transcript.chapters
        if 0 <= index < len(chapters) and title and title != chapters[index].title:
            self._undo.push(RenameChapterCommand(self._doc, index, title))

    def move_chapter_start(self, index: int, row: int) -> bool:
        """Chapter ``index`` starts at segment ``row`` (the chapter before ends there)."""
        chapters = self._doc.transcript.chapters
        if not (0 < index < len(chapters)) or not 0 <= row < self._doc.segments.rowCount():
            self._hint(self.tr("The first chapter always starts at the beginning."))
            return False
        t = self._doc.transcript.segments[row].start
        if not chapters[index - 1].start < t < chapters[index].end:
            self._hint(self.tr("That segment is not next to this chapter's start."))
            return False
        if abs(t - chapters[index].start) < 1e-6:
            return False
        self._undo.push(MoveChapterStartCommand(self._doc, index, t))
        return True

    def relink_audio(self, path: str) -> None:
        self._undo.push(RelinkAudioCommand(self._doc, str(path), self._load_audio))

    # ================================================================== search

    @Slot()
    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def find(self, text: str) -> int:
        """Search for ``text``; returns the number of matches (then find_next selects)."""
        self.search_field.setText(text)
        return len(self._matches)

    def matches(self) -> list[tuple[int, int]]:
        return list(self._matches)

    def _search_changed(self, text: str) -> None:
        self._pattern = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._recompute_matches()
        self._match_index = -1
        self.view.delegate.current_match = None
        self._update_match_label()
        self.view.viewport().update()

    def _recompute_matches(self) -> None:
        self._matches = []
        self.view.delegate.search = self._pattern
        if self._pattern is None:
            return
        for row, seg in enumerate(self._doc.transcript.segments):
            for start, _ in find_all(self._pattern, seg.text):
                self._matches.append((row, start))

    def _update_match_label(self) -> None:
        if self._pattern is None:
            self.match_label.setText("")
        elif not self._matches:
            self.match_label.setText(self.tr("No matches"))
        elif self._match_index < 0:
            self.match_label.setText(self.tr("{n} matches").format(n=len(self._matches)))
        else:
            self.match_label.setText(self.tr("{i} of {n}").format(i=self._match_index + 1, n=len(self._matches)))

    @Slot()
    def find_next(self) -> None:
        self._step_match(1)

    @Slot()
    def find_previous(self) -> None:
        self._step_match(-1)

    def _step_match(self, step: int) -> None:
        if not self._matches:
            if self._pattern is None:
                self.focus_search()
            self._update_match_label()
            return
        if self._match_index < 0:
            cur = self.view.currentIndex().row() if self.view.currentIndex().isValid() else -1
            if step > 0:
                self._match_index = next((i for i, (r, _) in enumerate(self._matches) if r >= max(cur, 0)), 0)
            else:
                back = [i for i, (r, _) in enumerate(self._matches) if r <= cur]
                self._match_index = back[-1] if back else len(self._matches) - 1
        else:
            self._match_index = (self._match_index + step) % len(self._matches)
        row, start = self._matches[self._match_index]
        self.view.delegate.current_match = (row, start)
        ix = self._doc.segments.index(row, 0)
        self.view.setCurrentIndex(ix)
        self.view.scrollTo(ix, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.view.viewport().update()
        self._update_match_label()

    # ================================================================== playback

    def play_from(self, seconds: float) -> None:
        self.seek(seconds)
        if self._audio_ready:
            if self._loop_on:
                self._loop_segment_at(seconds)
            self._player.play()
            self._poll.start()
        self._on_tick()

    @Slot()
    def toggle_play(self) -> None:
        if not self._audio_ready:
            self._hint(self.tr("No audio to play: relink the recording first."))
            return
        if self._player.playing:
            self._player.pause()
        else:
            if self._loop_on:
                self._loop_segment_at(self._player.position)
            self._player.play()
            self._poll.start()
        self._on_tick()

    def seek(self, seconds: float) -> None:
        dur = self._player.duration if self._audio_ready else self._doc.transcript.audio.duration
        self._player.seek(min(max(0.0, seconds), dur))
        self._on_tick()

    def set_speed(self, speed: float) -> None:
        self._player.speed = clamp_speed(speed)
        self.bar.speed.blockSignals(True)
        self.bar.set_speed(self._player.speed)
        self.bar.speed.blockSignals(False)

    def _step_speed(self, step: int) -> None:
        cur = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self._player.speed))
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, cur + step))])

    def _set_loop(self, on: bool) -> None:
        self._loop_on = bool(on)
        self.act_loop.setChecked(self._loop_on)
        self.bar.set_loop(self._loop_on)
        if self._loop_on:
            self._loop_segment_at(self._player.position)
        else:
            self._player.set_loop(None)

    def _loop_segment_at(self, t: float) -> None:
        segs = self._doc.transcript.segments
        row = self._doc.segment_at(t + 1e-6)
        if row < 0 or (row < len(segs) and t > segs[row].end):
            cur = self.view.currentIndex().row()
            row = cur if cur >= 0 else row
        if 0 <= row < len(segs):
            self._player.set_loop(segs[row].start, segs[row].end)

    @Slot()
    def _on_tick(self) -> None:
        pos = self._player.position
        playing = self._player.playing
        self.bar.set_position(pos)
        self.bar.set_playing(playing)
        self.timeline.set_position(pos)
        segs = self._doc.transcript.segments
        row = self._doc.segment_at(pos + 1e-6)
        word = -1
        if 0 <= row < len(segs):
            w = word_at_time(segs[row], pos + 1e-6)
            word = -1 if w is None or pos > segs[row].end + 0.5 else w
        self._doc.segments.set_playing(row, word)
        self._doc.chapters.set_current(self._doc.chapter_at(pos) if segs else -1)
        if (
            playing
            and row != self._last_playing_row
            and row >= 0
            and self.view.state() != QAbstractItemView.State.EditingState
        ):
            self.view.scrollTo(self._doc.segments.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)
        self._last_playing_row = row
        if not playing:
            self._poll.stop()

    def playing_row(self) -> int:
        return self._doc.segments.playing_row

    def playing_word(self) -> int:
        return self._doc.segments.playing_word

    @Slot(float)
    def _on_timeline_seek(self, t: float) -> None:
        self.seek(t)
        if self._audio_ready and not self._player.playing:
            self._player.play()
            self._poll.start()
        self._on_tick()

    @Slot(int, int)
    def _on_segment_clicked(self, row: int, offset: int) -> None:
        seg = self._doc.transcript.segments[row]
        t = seg.start
        if offset >= 0:
            w = word_at_char(seg, offset)
            if w is not None:
                t = seg.words[w].start
        self._last_click = (row, offset)
        self.play_from(t)

    def _play_current(self) -> None:
        row = self.view.currentIndex().row()
        if row >= 0:
            self.play_from(self._doc.transcript.segments[row].start)

    # ------------------------------------------------------------------ audio

    def _resolve_audio(self, audio_path: str | None, save_path: str | None) -> str | None:
        path = audio_path or self._doc.transcript.audio.path or None
        if path and not os.path.isabs(path) and save_path:
            path = str(Path(save_path).parent / path)
        return path

    def _load_audio(self, path: str | None) -> None:
        self._audio_generation += 1
        self._audio_ready = False
        self._audio_path = path
        self._player.pause()
        self._player.load(None, self._doc.transcript.audio.duration)
        self._update_enabled()
        if not path or not Path(path).is_file():
            shown = path or self.tr("(none)")
            self._show_banner(
                self.tr("The recording was not found: {path}. Relink it to play the audio.").format(path=shown)
            )
            self.audio_missing.emit(path or "")
            return
        self._show_banner(None)
        self.bar.set_notice(self.tr("Loading audio…"))
        QThreadPool.globalInstance().start(_AudioLoadTask(self._audio_relay, self._audio_generation, path))

    @Slot(int, object, str)
    def _on_audio_loaded(self, generation: int, samples, error: str) -> None:
        if generation != self._audio_generation:
            return  # an older file, replaced meanwhile
        if samples is None:
            self.bar.set_notice(None)
            self._show_banner(self.tr("The recording cannot be played: {error}").format(error=error))
            return
        self._player.load(samples)
        self._audio_ready = True
        self.bar.set_duration(max(self._player.duration, self._doc.transcript.audio.duration))
        self.bar.set_notice(self.tr("Silent: no audio output") if self._player.silent else None)
        if self._player.silent:
            self.bar.notice.setToolTip(self._player.silent_reason or "")
        self._update_enabled()
        self._on_tick()

    def audio_ready(self) -> bool:
        return self._audio_ready

    def _show_banner(self, text: str | None) -> None:
        self.banner_label.setText(text or "")
        self.banner.setVisible(bool(text))

    # ================================================================== reactions

    @Slot(int)
    def _on_edited(self, _index: int) -> None:
        if self._loading:
            return
        self._autosaver.schedule()
        self.changed.emit()

    @Slot()
    def _content_changed(self) -> None:
        if self._pattern is not None:
            current = self._matches[self._match_index] if 0 <= self._match_index < len(self._matches) else None
            self._recompute_matches()
            self._match_index = self._matches.index(current) if current in self._matches else -1
            self._update_match_label()
        self._update_enabled()

    @Slot(int, str, int)
    def _on_typing(self, row: int, text: str, session: int) -> None:
        self.edit_text(row, text, session)
        # A row that grew by a line stays in view whole (the editor follows its row).
        self.view.scrollTo(self._doc.segments.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    @Slot(int)
    def _on_edit_cancelled(self, session: int) -> None:
        # Esc: undo what was typed in this editor (one merged command).
        idx = self._undo.index()
        cmd = self._undo.command(idx - 1) if idx > 0 else None
        if isinstance(cmd, EditTextCommand) and cmd.session == session:
            self._undo.undo()

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self._hint(self.tr("Not saved"))
        self.save_failed.emit(message)

    def _speakers_changed(self) -> None:
        has = bool(self._doc.speaker_ids())
        self.speakers_stack.setCurrentWidget(self.speaker_view if has else self.no_speakers)

    def _chapters_changed(self) -> None:
        has = bool(self._doc.transcript.chapters)
        self.chapters_stack.setCurrentWidget(self.chapter_view if has else self.no_chapters)
        self._update_enabled()

    def _hint(self, text: str) -> None:
        self.hint_label.setText(text)
        self.hint_label.setToolTip(text)
        self._hint_timer.start()
        self.status_message.emit(text)

    def _update_enabled(self) -> None:
        rows = self._doc.segments.rowCount()
        cur = self.view.currentIndex().row()
        has_seg = 0 <= cur < rows
        self.act_edit.setEnabled(has_seg)
        self.act_split.setEnabled(has_seg)
        self.act_join.setEnabled(0 <= cur < rows - 1)
        has_spk = bool(self._doc.speaker_ids())
        for a in (self.act_rename_speaker, self.act_voice, self.act_assign):
            a.setEnabled(has_seg or has_spk)
        self.act_merge.setEnabled(len(self._doc.speaker_ids()) > 1)
        has_ch = bool(self._doc.transcript.chapters)
        self.act_rename_chapter.setEnabled(has_ch)
        self.act_move_chapter.setEnabled(len(self._doc.transcript.chapters) > 1 and has_seg)
        for a in (
            self.act_play,
            self.act_play_segment,
            self.act_loop,
            self.act_slower,
            self.act_faster,
            self.act_back,
            self.act_forward,
        ):
            a.setEnabled(self._audio_ready)
        self.bar.set_enabled_audio(self._audio_ready)
        self.act_save.setEnabled(bool(self._autosaver.path))

    def _update_dark(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        self._doc.set_dark(dark)
        self.timeline.refresh()
        pal = self.banner.palette()
        pal.setColor(QPalette.ColorRole.Window, pal.color(QPalette.ColorRole.ToolTipBase))
        pal.setColor(QPalette.ColorRole.WindowText, pal.color(QPalette.ColorRole.ToolTipText))
        self.banner.setPalette(pal)

    def closeEvent(self, event) -> None:
        self._player.pause()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.StyleChange):
            self._update_dark()
        super().changeEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.search_field and event.type() == QEvent.Type.KeyPress:
            if (
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            ):
                self.find_previous()
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.search_field.clear()
                self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
        return super().eventFilter(obj, event)

    # ================================================================== action slots (dialogs)

    def _selected_rows(self) -> list[int]:
        rows = sorted({ix.row() for ix in self.view.selectionModel().selectedIndexes()})
        cur = self.view.currentIndex().row()
        return rows or ([cur] if cur >= 0 else [])

    def _current_speaker(self) -> str | None:
        if self.speaker_view.hasFocus() and self.speaker_view.currentIndex().isValid():
            return self._doc.speakers.speaker_id(self.speaker_view.currentIndex().row())
        cur = self.view.currentIndex().row()
        if cur >= 0:
            sid = self._doc.transcript.segments[cur].speaker
            if sid is not None:
                return sid
        if self.speaker_view.currentIndex().isValid():
            return self._doc.speakers.speaker_id(self.speaker_view.currentIndex().row())
        ids = self._doc.speaker_ids()
        return ids[0] if ids else None

    def _edit_current(self) -> None:
        if self.chapter_view.hasFocus() and self.chapter_view.currentIndex().isValid():
            self.chapter_view.edit(self.chapter_view.currentIndex())
            return
        if self.speaker_view.hasFocus() and self.speaker_view.currentIndex().isValid():
            self.speaker_view.edit(self.speaker_view.currentIndex().siblingAtColumn(0))
            return
        ix = self.view.currentIndex()
        if ix.isValid():
            self.view.setFocus()
            self.view.edit(ix)

    def _split_current(self) -> None:
        row = self.view.currentIndex().row()
        if row < 0:
            return
        seg = self._doc.transcript.segments[row]
        last = self._last_click
        open_editor = self.view.indexWidget(self.view.currentIndex())
        if isinstance(open_editor, SegmentTextEdit):  # typing: split at the text cursor
            offset = open_editor.textCursor().position()
            self.view.delegate.closeEditor.emit(open_editor, QStyledItemDelegate.EndEditHint.NoHint)
        elif last and last[0] == row and last[1] > 0:
            offset = last[1]
        elif self.playing_row() == row and self.playing_word() > 0:
            from ui.transcript.edits import word_spans

            sp = word_spans(seg)[self.playing_word()]
            offset = sp[0] if sp else len(seg.text) // 2
        else:
            offset = len(seg.text) // 2
        self.split_segment(row, offset)

    def _join_current(self) -> None:
        row = self.view.currentIndex().row()
        if row >= 0:
            self.join_with_next(row)

    def _rename_speaker_dialog(self) -> None:
        sid = self._current_speaker()
        if sid is None:
            return
        name, ok = QInputDialog.getText(
            self,
            self.tr("Rename speaker"),
            self.tr("New name for {name}:").format(name=self._doc.speaker_name(sid)),
            QLineEdit.EchoMode.Normal,
            self._doc.speaker_name(sid),
        )
        if ok:
            self.rename_speaker(sid, name)

    def _merge_dialog(self) -> None:
        drop = self._current_speaker()
        others = [s for s in self._doc.speaker_ids() if s != drop]
        if drop is None or not others:
            return
        names = [f"{self._doc.speaker_name(s)} ({s})" for s in others]
        item, ok = QInputDialog.getItem(
            self,
            self.tr("Merge speakers"),
            self.tr("Merge {name} into:").format(name=self._doc.speaker_name(drop)),
            names,
            0,
            False,
        )
        if ok and item in names:
            self.merge_speakers(others[names.index(item)], drop)

    def _assign_dialog(self) -> None:
        ids = self._doc.speaker_ids()
        names = [f"{self._doc.speaker_name(s)} ({s})" for s in ids] + [self.tr("New speaker")]
        item, ok = QInputDialog.getItem(
            self, self.tr("Change speaker"), self.tr("Speaker of the selected segments:"), names, 0, False
        )
        if ok and item in names:
            i = names.index(item)
            self.assign_selected(ids[i] if i < len(ids) else None)

    def _voice_profile_dialog(self) -> None:
        sid = self._current_speaker()
        if sid is None:
            return
        name, ok = QInputDialog.getText(
            self,
            self.tr("Save voice profile"),
            self.tr("Name to give this voice in later meetings:"),
            QLineEdit.EchoMode.Normal,
            self._doc.speaker_name(sid),
        )
        if ok and name.strip():
            self.request_voice_profile(sid, name.strip())

    def request_voice_profile(self, speaker_id: str, name: str) -> None:
        """Rename the speaker to ``name`` (if new) and ask the app to store their voice."""
        self.rename_speaker(speaker_id, name)
        self.voice_profile_requested.emit(speaker_id, name)
        self._hint(self.tr("Saving the voice of {name}…").format(name=name))

    def _rename_chapter_current(self) -> None:
        ix = self.chapter_view.currentIndex()
        if not ix.isValid():
            i = self._doc.chapter_at(self._player.position)
            ix = self._doc.chapters.index(max(0, i), 0)
        if ix.isValid():
            self.chapter_view.setCurrentIndex(ix)
            self.chapter_view.setFocus()
            self.chapter_view.edit(ix)

    def _move_chapter_current(self) -> None:
        row = self.view.currentIndex().row()
        if row < 0:
            return
        chapters = self._doc.transcript.chapters
        idx = self.chapter_view.currentIndex().row()
        if idx <= 0:
            t = self._doc.transcript.segments[row].start
            idx = min(range(1, len(chapters)), key=lambda i: abs(chapters[i].start - t), default=-1)
        self.move_chapter_start(idx, row)

    def _relink_dialog(self) -> None:
        start = self._audio_path or self._doc.transcript.audio.path or ""
        folder = str(Path(start).parent) if start else ""
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Relink audio"),
            folder,
            self.tr("Recordings (*.wav *.flac *.ogg *.mp3 *.m4a *.mp4 *.mkv *.webm);;All files (*)"),
        )
        if path:
            self.relink_audio(path)

    @Slot(QModelIndex)
    def _jump_to_chapter(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        ch = self._doc.transcript.chapters[index.row()]
        row = max(0, self._doc.segment_at(ch.start + 1e-6))
        segs = self._doc.transcript.segments
        if row < len(segs) and segs[row].start < ch.start - 1e-6 and row + 1 < len(segs):
            row += 1
        if segs:
            ix = self._doc.segments.index(row, 0)
            self.view.setCurrentIndex(ix)
            self.view.scrollTo(ix, QAbstractItemView.ScrollHint.PositionAtTop)
        self.seek(ch.start)

    def _segment_menu(self, pos) -> None:
        ix = self.view.indexAt(pos)
        if ix.isValid() and not self.view.selectionModel().isSelected(ix):
            self.view.setCurrentIndex(ix)
        m = QMenu(self)
        for a in (self.act_play_segment, self.act_edit, self.act_split, self.act_join):
            m.addAction(a)
        m.addSeparator()
        m.addMenu(self.assign_menu)
        for a in (self.act_rename_speaker, self.act_merge, self.act_voice):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_move_chapter)
        m.exec(self.view.viewport().mapToGlobal(pos))

    def _speaker_menu(self, pos) -> None:
        ix = self.speaker_view.indexAt(pos)
        if ix.isValid():
            self.speaker_view.setCurrentIndex(ix)
            self.speaker_view.setFocus()
        m = QMenu(self)
        for a in (self.act_rename_speaker, self.act_merge, self.act_voice):
            m.addAction(a)
        m.exec(self.speaker_view.viewport().mapToGlobal(pos))
