"""Training, step 4: the run. Name, start / pause / cancel / resume, progress and time left, the
live loss and dev-WER plot, and the log text, all from the run's event log."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.training.plot import LossPlot


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainPage(QWidget):
    start_requested = Signal(str)  # the model's name
    pause_requested = Signal()
    cancel_requested = Signal()
    resume_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText(self.tr("e.g. team-names"))
        self.start = QPushButton(self.tr("&Start training"), self)
        self.pause = QPushButton(self.tr("&Pause"), self)
        self.cancel = QPushButton(self.tr("&Cancel"), self)
        self.resume = QPushButton(self.tr("&Resume"), self)
        self.stage = QLabel(self.tr("Not started."), self)
        self.stage.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setFormat(self.tr("step %v of %m"))
        self.eta = QLabel("–", self)
        self.plot = LossPlot(self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        form = QFormLayout()
        form.addRow(self.tr("Model &name:"), self.name)
        buttons = QHBoxLayout()
        for b in (self.start, self.pause, self.cancel, self.resume):
            buttons.addWidget(b)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.tr("Stage:"), self.stage)
        form.addRow(self.tr("Progress:"), self.progress)
        form.addRow(self.tr("Time left:"), self.eta)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.plot)
        split.addWidget(self.log)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(split, 1)
        self.start.clicked.connect(lambda: self.start_requested.emit(self.name.text().strip()))
        self.pause.clicked.connect(self.pause_requested)
        self.cancel.clicked.connect(self.cancel_requested)
        self.resume.clicked.connect(lambda: self.resume_requested.emit(self.name.text().strip()))
        self.set_running(False, resumable=False)

    def set_running(self, running: bool, resumable: bool) -> None:
        self.start.setEnabled(not running)
        self.name.setEnabled(not running)
        self.pause.setEnabled(running)
        self.cancel.setEnabled(running)
        self.resume.setEnabled(not running and resumable)

    def reset(self) -> None:
        self.plot.clear()
        self.log.clear()
        self.progress.setValue(0)
        self.eta.setText("–")

    def add_line(self, text: str) -> None:
        self.log.appendPlainText(text)

    def on_event(self, ev: dict) -> None:
        """One event-log line: the plot, the bar, the time left and a line of log text."""
        kind = ev.get("type")
        step, total = ev.get("step"), ev.get("total_steps")
        if total:
            self.progress.setMaximum(int(total))
            self.plot.total_steps = int(total)
        if step is not None and kind in ("step", "eval", "checkpoint", "cancelled"):
            self.progress.setValue(int(step))
        if kind == "step":
            if ev.get("loss") is not None:
                self.plot.add_loss(step, ev["loss"])
            self.eta.setText(_clock(ev.get("eta_s")))
            self.add_line(self.tr("step {0}/{1}  loss {2:.3f}").format(step, total, ev.get("loss") or 0.0))
        elif kind == "eval" and ev.get("dev_wer") is not None:
            self.plot.add_wer(step or 0, ev["dev_wer"])
            self.add_line(self.tr("dev WER at step {0}: {1:.1f}%").format(step, 100 * ev["dev_wer"]))
        elif kind in ("stage", "start", "checkpoint", "cancelled", "done", "error"):
            message = ev.get("message") or kind
            stages = {
                "scoring the packaged model": self.tr("Scoring the built-in model (before)"),
                "exporting to ONNX": self.tr("Exporting the model to ONNX"),
                "scoring the fine-tuned model": self.tr("Scoring the fine-tuned model (after)"),
            }
            if kind == "stage":
                self.stage.setText(stages.get(message, message))
            elif kind == "start":
                self.stage.setText(self.tr("Training: {0}").format(message))
            elif kind in ("done", "cancelled", "error"):
                self.stage.setText(message)
            self.add_line(f"{kind}: {message}")
        if ev.get("dev_wer") is not None and kind == "step":
            self.plot.add_wer(step, ev["dev_wer"])
