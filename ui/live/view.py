"""The Live view: pick inputs, Start / Pause / Resume / Stop, and watch the transcript grow.

Confirmed lines are shown in the normal colour with the speaker's name in their colour;
the words not yet confirmed follow in grey. Chapter titles appear as markers. A level meter
per input shows that sound arrives; a warning says when recognition falls behind. The text
can be selected and copied while the meeting runs. The app's live controller calls the
``show_*``/``set_*`` methods from the session's events (in the GUI thread).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPalette, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.speaker_colors import speaker_color
from ui.theme import is_dark

IDLE, STARTING, RECORDING, PAUSED, STOPPING = "idle", "starting", "recording", "paused", "stopping"


class LevelMeter(QWidget):
    """A horizontal bar from -60 dBFS to 0, green to amber near clipping; grey when silent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = -90.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0" * 12))
        self.setAccessibleName(self.tr("Input level"))

    def sizeHint(self):  # noqa: D102
        size = super().sizeHint()
        size.setHeight(max(6, self.fontMetrics().height() // 2))
        return size

    def set_level(self, dbfs: float) -> None:
        self._db = float(dbfs)
        self.update()

    @property
    def level(self) -> float:
        return self._db

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        r = self.rect()
        p.fillRect(r, self.palette().color(QPalette.ColorRole.Base))
        frac = min(1.0, max(0.0, (self._db + 60.0) / 60.0))
        colour = QColor("#D9822B") if self._db > -6 else QColor("#3A9D5D")
        p.fillRect(r.adjusted(0, 0, -round(r.width() * (1 - frac)), 0), colour)
        p.setPen(self.palette().color(QPalette.ColorRole.Mid))
        p.drawRect(r.adjusted(0, 0, -1, -1))


class LiveView(QWidget):
    start_requested = Signal(str, str, str)  # microphone, system audio ("" = none), agenda
    pause_requested = Signal()
    resume_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self._lines: list[tuple[str | None, str]] = []  # confirmed (speaker name or None, text) per segment
        self._speakers: dict[int, str] = {}  # segment -> speaker id
        self._names: dict[str, str] = {}
        self._chapters: list[tuple[int, str]] = []  # (segment index where it starts, title)
        self._partial = ""
        self._closed = 0  # segments before this index are finished
        self._fixed = 0  # segments before this index are drawn for good
        self._tail_start = 0  # where the open line's text begins in the document
        self._full = False
        self._elapsed_before = 0  # ms recorded before the last pause
        self._clock = QElapsedTimer()

        self.microphone = QComboBox(self)
        self.system_audio = QComboBox(self)
        self.agenda = QLineEdit(self)
        self.agenda.setPlaceholderText(self.tr("Agenda for chapters: budget; hiring; roadmap"))
        self.mic_level = LevelMeter(self)
        self.system_level = LevelMeter(self)
        inputs = QGroupBox(self.tr("Inputs"), self)
        form = QFormLayout(inputs)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        mic_row = QHBoxLayout()
        mic_row.addWidget(self.microphone, 3)
        mic_row.addWidget(self.mic_level, 2)
        sys_row = QHBoxLayout()
        sys_row.addWidget(self.system_audio, 3)
        sys_row.addWidget(self.system_level, 2)
        for text, field, buddy in (
            (self.tr("&Microphone:"), mic_row, self.microphone),
            (self.tr("&System audio:"), sys_row, self.system_audio),
            (self.tr("&Agenda:"), self.agenda, self.agenda),
        ):
            label = QLabel(text, inputs)
            label.setBuddy(buddy)
            form.addRow(label, field)

        self.start_button = QPushButton(self.tr("Start"), self)
        self.start_button.setShortcut(QKeySequence("Ctrl+R"))
        self.start_button.setToolTip(self.tr("Start recording (Ctrl+R)"))
        self.pause_button = QPushButton(self.tr("Pause"), self)
        self.pause_button.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_button.setToolTip(self.tr("Pause and resume (Ctrl+P)"))
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setShortcut(QKeySequence("Ctrl+."))
        self.stop_button.setToolTip(self.tr("Stop, save and open in the editor (Ctrl+.)"))
        self.start_button.clicked.connect(self._start)
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.stop_button.clicked.connect(self.stop_requested)
        self.elapsed = QLabel("0:00:00", self)
        font = self.elapsed.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.elapsed.setFont(font)
        self.state_label = QLabel(self)
        controls = QHBoxLayout()
        for w in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(w)
        controls.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        controls.addWidget(self.elapsed)
        controls.addWidget(self.state_label, 1)

        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("QLabel { color: #B34700; font-weight: bold; }")
        self.warning.hide()

        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setPlaceholderText(self.tr("The transcript appears here as people speak."))
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.text.setAccessibleName(self.tr("Live transcript"))

        layout = QVBoxLayout(self)
        layout.addWidget(inputs)
        layout.addLayout(controls)
        layout.addWidget(self.warning)
        layout.addWidget(self.text, 1)

        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self._show_elapsed)
        self._render_timer = QTimer(self)  # many events per second: draw at most ~8 times a second
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(120)
        self._render_timer.timeout.connect(self._render)
        self.set_state(IDLE)

    # -- inputs ----------------------------------------------------------------------------------
    def set_devices(self, microphones: list[str], system: list[str], mic: str = "", sysaudio: str = "") -> None:
        """Fill the pickers; devices are remembered by name (indices change when one is plugged in)."""
        self.microphone.clear()
        self.microphone.addItem(self.tr("System default"), "")
        for name in microphones:
            self.microphone.addItem(name, name)
        self.system_audio.clear()
        self.system_audio.addItem(self.tr("None (microphone only)"), "")
        for name in system:
            self.system_audio.addItem(name, name)
        for box, wanted in ((self.microphone, mic), (self.system_audio, sysaudio)):
            i = box.findData(wanted)
            if i < 0 and wanted:
                box.addItem(self.tr("{0} (not connected)").format(wanted), wanted)
                i = box.count() - 1
            box.setCurrentIndex(max(0, i))

    # -- state -----------------------------------------------------------------------------------
    def set_state(self, state: str, message: str = "") -> None:
        self.state = state
        idle = state == IDLE
        self.start_button.setEnabled(idle)
        self.pause_button.setEnabled(state in (RECORDING, PAUSED))
        self.pause_button.setText(self.tr("Resume") if state == PAUSED else self.tr("Pause"))
        self.stop_button.setEnabled(state in (RECORDING, PAUSED))
        for w in (self.microphone, self.system_audio):
            w.setEnabled(idle)
        labels = {
            IDLE: "",
            STARTING: self.tr("Starting…"),
            RECORDING: self.tr("Recording"),
            PAUSED: self.tr("Paused: nothing is recorded"),
            STOPPING: self.tr("Finishing the last words…"),
        }
        self.state_label.setText(message or labels.get(state, ""))
        if state == RECORDING:
            self._clock.start()
            self._tick.start()
        elif state == PAUSED:
            if self._clock.isValid():
                self._elapsed_before += self._clock.elapsed()
            self._clock.invalidate()
            self._tick.stop()
        elif state in (IDLE, STOPPING):
            self._tick.stop()
        self._show_elapsed()

    def reset(self) -> None:
        self._lines, self._speakers, self._chapters, self._partial = [], {}, [], ""
        self._closed = self._fixed = self._tail_start = 0
        self._full = True
        self._elapsed_before = 0
        self._clock.invalidate()
        self.warning.hide()
        self._render()

    def elapsed_seconds(self) -> float:
        ms = self._elapsed_before + (self._clock.elapsed() if self._clock.isValid() else 0)
        return ms / 1000

    @Slot()
    def _show_elapsed(self) -> None:
        s = int(self.elapsed_seconds())
        self.elapsed.setText(f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}")

    @Slot()
    def _start(self) -> None:
        self.reset()
        self.start_requested.emit(
            self.microphone.currentData() or "", self.system_audio.currentData() or "", self.agenda.text().strip()
        )

    @Slot()
    def _pause_or_resume(self) -> None:
        (self.resume_requested if self.state == PAUSED else self.pause_requested).emit()

    # -- transcript ------------------------------------------------------------------------------
    # The finished lines are drawn once; only the open line and the grey guess after it are
    # redrawn as words arrive, so a two-hour meeting costs the same per update as a short one.
    # A speaker relabel or a new chapter redraws everything (rare: about once a minute).
    def show_confirmed(self, segment: int, text: str) -> None:
        """Confirmed words of segment ``segment`` so far (the whole line: it replaces what was there)."""
        while len(self._lines) <= segment:
            self._lines.append((None, ""))
        self._lines[segment] = (self._lines[segment][0], text)
        self._schedule(full=segment < self._fixed)

    def finish_segment(self, segment: int, text: str) -> None:
        """Segment ``segment`` is closed: its text will not change (its speaker still may)."""
        self.show_confirmed(segment, text)
        self._closed = max(self._closed, segment + 1)
        self._schedule()

    def show_partial(self, text: str) -> None:
        self._partial = text
        self._schedule()

    def set_speaker(self, segment: int, speaker_id: str | None, name: str | None = None) -> None:
        if speaker_id and self._speakers.get(segment) != speaker_id:
            self._speakers[segment] = speaker_id
            self._schedule(full=segment < self._fixed)
        if speaker_id and name and self._names.get(speaker_id) != name:
            self._names[speaker_id] = name
            self._schedule(full=True)

    def set_chapters(self, chapters: list[tuple[int, str]]) -> None:
        """(first segment, title) of each chapter found so far."""
        if list(chapters) != self._chapters:
            self._chapters = list(chapters)
            self._schedule(full=True)

    def show_warning(self, message: str) -> None:
        self.warning.setText(message)
        self.warning.setVisible(bool(message))

    def set_levels(self, microphone_dbfs: float | None = None, system_dbfs: float | None = None) -> None:
        if microphone_dbfs is not None:
            self.mic_level.set_level(microphone_dbfs)
        if system_dbfs is not None:
            self.system_level.set_level(system_dbfs)

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def _schedule(self, full: bool = False) -> None:
        self._full = self._full or full
        if not self._render_timer.isActive():
            self._render_timer.start()

    def _line_html(self, i: int, dark: bool, partial: str = "") -> str:
        chapters = dict(self._chapters)
        out = f"<h4>§ {html.escape(chapters[i])}</h4>" if i in chapters else ""
        text = self._lines[i][1] if i < len(self._lines) else ""
        guess = ""
        if partial:
            grey = self._grey()
            guess = f' <span style="color:{grey}"><i>{html.escape(partial)}</i></span>'
        if not text:
            return out + (f"<p>{guess.strip()}</p>" if guess else "")
        sid = self._speakers.get(i)
        who = ""
        if sid:
            name = html.escape(self._names.get(sid, self.tr("Speaker {0}").format(sid.lstrip("S"))))
            who = f'<b style="color:#{speaker_color(sid, dark)}">{name}:</b> '
        return out + f"<p>{who}{html.escape(text)}{guess}</p>"

    def _grey(self) -> str:
        """Half-way between the text and its background: unconfirmed words (any theme)."""
        a, b = self.palette().color(QPalette.ColorRole.Text), self.palette().color(QPalette.ColorRole.Base)
        return QColor((a.red() + b.red()) // 2, (a.green() + b.green()) // 2, (a.blue() + b.blue()) // 2).name()

    @Slot()
    def _render(self) -> None:
        dark = is_dark(self.palette())
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        doc = self.text.document()
        cursor = QTextCursor(doc)
        if self._full or self._fixed > self._closed:
            self._fixed = self._tail_start = 0
            self.text.clear()
            self._full = False

        def put(fragment: str) -> None:  # a new paragraph, never glued to the one before
            if fragment:
                if cursor.position() > 0:
                    cursor.insertBlock()
                cursor.insertHtml(fragment)

        end = QTextCursor.MoveOperation.End
        cursor.setPosition(min(self._tail_start, doc.characterCount() - 1))
        cursor.movePosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if self._closed > self._fixed:  # lines closed since the last draw become fixed
            put("".join(self._line_html(i, dark) for i in range(self._fixed, self._closed)))
            self._fixed = self._closed
            cursor.movePosition(end)
            self._tail_start = cursor.position()
        last = max(len(self._lines), self._fixed + (1 if self._partial else 0))
        tail = "".join(
            self._line_html(i, dark, self._partial if i == last - 1 else "") for i in range(self._fixed, last)
        )
        put(tail)
        if at_end:  # follow the meeting unless the user scrolled back to read
            bar.setValue(bar.maximum())
