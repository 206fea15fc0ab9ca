"""Runs a fine-tune for the Training tab in a child process and turns its event log into signals.

The child (app/training_child.py) imports torch; this process never does. Its JSONL event log is
tailed by a QTimer that reads only the bytes added since the last tick (a few hundred bytes), so
the window's event loop never waits on training. Pause and cancel both stop the child with
SIGTERM (it saves a checkpoint first); resume starts a new child with ``--resume`` on the same run
folder, also after the window was closed and opened again.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot

REPO = Path(__file__).resolve().parents[1]
POLL_MS = 200


def run_dir(name: str) -> Path:
    """Where the run of this model name keeps its events, checkpoint and manifests."""
    from engine.paths import data_dir

    return data_dir() / "training" / name


class TrainingController(QObject):
    """``start(name, train, dev, config_toml, terms)``; signals carry each event as a dict."""

    event = Signal(object)  # one event-log line (dict)
    finished = Signal(str, object)  # state: "done" | "cancelled" | "error", summary dict or message
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.name = ""
        self.folder: Path | None = None
        self._offset = 0
        self._partial = b""
        self._stopping = ""
        self._last_type = ""
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    def running(self) -> bool:
        return self.process is not None

    def start(self, name: str, train: Path, dev: Path, config_toml: str, terms: str, resume: bool = False) -> Path:
        """Write the config into the run folder and start the child; returns the run folder."""
        if self.running():
            raise RuntimeError("a run is already going")
        self.name = name
        self.folder = run_dir(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "config.toml"
        config.write_text(config_toml, encoding="utf-8")
        (self.folder / "wizard.json").write_text(
            json.dumps({"train": str(train), "dev": str(dev), "terms": terms}), encoding="utf-8"
        )
        args = ["-m", "app.training_child", "--train", str(train), "--dev", str(dev), "--name", name]
        args += ["--config", str(config), "--result", str(self.folder / "result.json")]
        if terms.strip():
            args += ["--terms", terms]
        if resume:
            args.append("--resume")
        events = self.folder / "events.jsonl"
        self._offset = 0  # a resume shows the whole run again: the window may have been closed since
        if not resume and events.exists():
            events.unlink()
        self._partial = b""
        self._stopping = ""
        self._last_type = ""
        (self.folder / "result.json").unlink(missing_ok=True)
        p = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONPATH", os.pathsep.join([str(REPO), env.value("PYTHONPATH", "")]).rstrip(os.pathsep))
        p.setProcessEnvironment(env)
        p.setWorkingDirectory(str(REPO))
        p.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        p.readyReadStandardOutput.connect(self._child_output)
        p.finished.connect(self._child_finished)
        p.errorOccurred.connect(self._child_error)
        self.process = p
        self._output = ""
        p.start(sys.executable, args)
        self.timer.start()
        self.running_changed.emit(True)
        return self.folder

    def resume(self) -> Path:
        """Continue the last run of ``self.name`` (or the one saved in its folder) from its checkpoint."""
        info = json.loads((run_dir(self.name) / "wizard.json").read_text(encoding="utf-8"))
        toml = (run_dir(self.name) / "config.toml").read_text(encoding="utf-8")
        return self.start(self.name, Path(info["train"]), Path(info["dev"]), toml, info.get("terms", ""), resume=True)

    def stop(self, why: str = "cancelled") -> None:
        """Ask the child to stop (it checkpoints first); ``why`` is "paused" or "cancelled"."""
        if self.process is not None:
            self._stopping = why
            self.process.terminate()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.waitForFinished(5000)

    @Slot()
    def _child_output(self) -> None:
        if self.process is not None:
            self._output = (self._output + bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace"))[
                -4000:
            ]

    @Slot()
    def _poll(self) -> None:
        if self.folder is None:
            return
        path = self.folder / "events.jsonl"
        try:
            size = path.stat().st_size
            if size < self._offset:
                self._offset = 0
            if size == self._offset:
                return
            with open(path, "rb") as f:
                f.seek(self._offset)
                data = f.read(size - self._offset)
        except OSError:
            return
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            try:
                ev: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            self._last_type = ev.get("type", "")
            self.event.emit(ev)

    @Slot(int, QProcess.ExitStatus)
    def _child_finished(self, code: int, _status) -> None:
        self._poll()
        self.timer.stop()
        self.process = None
        self.running_changed.emit(False)
        if code == 0:
            try:
                summary = json.loads((self.folder / "result.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = {}
            self.finished.emit("done", summary)
        elif self._stopping or code == 130 or self._last_type == "cancelled":
            self.finished.emit(self._stopping or "cancelled", None)
        else:
            lines = [x for x in self._output.splitlines() if x.strip()]
            errors = [x for x in lines if x.startswith("minutes: error:")]
            message = (errors or lines or [f"the training process ended with status {code}"])[-1]
            self.finished.emit("error", message.removeprefix("minutes: error: "))

    @Slot(QProcess.ProcessError)
    def _child_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.timer.stop()
            self.process = None
            self.running_changed.emit(False)
            self.finished.emit("error", "the training process could not start")
