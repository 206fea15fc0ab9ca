"""The player bar under the transcript: play/pause, position, a seek slider, speed, loop."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QStyle, QToolButton, QWidget

from ui.transcript.edits import format_time

SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
_SLIDER_STEPS_PER_S = 10


class PlayerBar(QWidget):
    play_toggled = Signal()
    seek_requested = Signal(float)
    speed_changed = Signal(float)
    loop_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration = 0.0
        lay = QHBoxLayout(self)
        m = self.fontMetrics().height() // 4
        lay.setContentsMargins(m, m, m, m)
        self.play_button = QToolButton(self)
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.clicked.connect(self.play_toggled)
        self.time_label = QLabel(self)
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.sliderMoved.connect(self._on_slider)
        self.slider.sliderPressed.connect(lambda: self._on_slider(self.slider.value()))
        self.speed_label = QLabel(self.tr("Speed"), self)
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(self.tr("{speed}×").format(speed=f"{s:g}"), s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(float(self.speed.itemData(i))))
        self.speed_label.setBuddy(self.speed)
        self.loop_button = QToolButton(self)
        self.loop_button.setCheckable(True)
        self.loop_button.setText(self.tr("Loop segment"))
        self.loop_button.setToolTip(self.tr("Repeat the current segment"))
        self.loop_button.toggled.connect(self.loop_toggled)
        self.notice = QLabel(self)
        self.notice.setVisible(False)
        for w in (self.play_button, self.time_label):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        for w in (self.speed_label, self.speed, self.loop_button, self.notice):
            lay.addWidget(w)
        self.set_playing(False)
        self.set_position(0.0)
        self.setAccessibleName(self.tr("Player"))

    def set_duration(self, seconds: float) -> None:
        self.duration = max(0.0, seconds)
        self.slider.setRange(0, int(self.duration * _SLIDER_STEPS_PER_S))
        # Room for the longest time this meeting can show, so the bar does not jump.
        longest = self._text(self.duration, self.duration)
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance(longest + " "))

    def _text(self, pos: float, dur: float) -> str:
        hours = dur >= 3600
        return f"{format_time(pos, hours)} / {format_time(dur, hours)}"

    def set_position(self, seconds: float) -> None:
        self.time_label.setText(self._text(seconds, self.duration))
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(seconds * _SLIDER_STEPS_PER_S))
            self.slider.blockSignals(False)

    def set_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText(self.tr("Pause") if playing else self.tr("Play"))
        self.play_button.setToolTip(self.tr("Play or pause (Space)"))

    def set_speed(self, speed: float) -> None:
        best = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed.setCurrentIndex(best)

    def set_loop(self, on: bool) -> None:
        self.loop_button.blockSignals(True)
        self.loop_button.setChecked(on)
        self.loop_button.blockSignals(False)

    def set_notice(self, text: str | None) -> None:
        self.notice.setText(text or "")
        self.notice.setVisible(bool(text))

    def set_enabled_audio(self, enabled: bool) -> None:
        for w in (self.play_button, self.slider, self.speed, self.loop_button):
            w.setEnabled(enabled)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.seek_requested.emit(value / _SLIDER_STEPS_PER_S)
