"""The Files queue's controller: rows in the view, jobs in one warm child process.

The child (engine/jobs.py's ``serve``, spawned) keeps its model loaded between files, so the
second file does not load it again, and its GIL-heavy speaker clustering never stalls the
window. One job is sent at a time, so the queue can be reordered, cancelled or emptied while
a job runs. A thread of ours waits on the child's events and hands each one to a slot of this
object (GUI thread). A child that dies turns its job into an error row; the next job starts a
fresh child. A finished transcript is saved in the Library (off the GUI thread) and opened in
the editor; with auto-export on, the child also writes the chosen formats beside the source.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, Signal, Slot

from app.background import Background, EventPump, WorkerEvents
from ui.files.queue_model import CANCELLED, DONE, ERROR, FINISHED, QUEUED, RUNNING, JobOptions, JobRow

if TYPE_CHECKING:
    from app.window import App
    from engine.jobs import FileJob, FileWorker
    from engine.transcript import Transcript

log = logging.getLogger("minutes.gui")

DEMO_DIR = Path(__file__).resolve().parents[1] / "resources" / "demo"
DEMO_TRANSCRIPT = DEMO_DIR / "call.json"
DEMO_AUDIO = DEMO_DIR / "call.flac"

# how much of the bar each stage fills: transcription is most of a job
_STAGES = {"model": (0.0, 0.0), "transcribe": (0.0, 0.88), "speakers": (0.88, 0.98), "writing": (0.98, 1.0)}


class FileQueue(QObject):
    """Lives in the GUI thread; owns the file worker."""

    meeting_added = Signal(str)  # a new meeting in the Library (its id)

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.app = app
        self.model = app.files_model
        self.view = app.files_view
        self.background = Background(self)
        self.worker: FileWorker | None = None
        self.pump: EventPump | None = None
        self._enders: list[threading.Thread] = []  # threads ending a child after a model change
        self.running: str | None = None  # the job id the child is working on
        self.auto_export = app.prefs.auto_export
        self._preparing = None  # the first-use progress dialog
        self._events = WorkerEvents(self)
        self._events.arrived.connect(self._on_event)
        self._eta_timer = QTimer(self)
        self._eta_timer.setInterval(1000)
        self._eta_timer.timeout.connect(self.model.refresh_eta)
        self.view.set_options(self._default_options(app.prefs), auto_export=self.auto_export)
        self.view.cancel_requested.connect(self.cancel)
        self.view.retry_requested.connect(self.retry)
        self.view.remove_requested.connect(self.remove)
        self.view.open_requested.connect(self.open_result)
        self.view.auto_export_changed.connect(self._set_auto_export)

    # -- adding ----------------------------------------------------------------------------------
    @staticmethod
    def _default_options(prefs) -> JobOptions:
        return JobOptions(language=prefs.language, speakers=prefs.speakers, hotwords=prefs.hotwords, model=prefs.model)

    def add_paths(self, paths: list[str]) -> int:
        """Files and folders (walked for media files); returns how many rows were added."""
        from engine.audio.decode import MEDIA_SUFFIXES

        added = 0
        options = self.view.options()
        for path in _expand(paths):
            row = JobRow(uuid.uuid4().hex[:12], str(path), options=JobOptions(**vars(options)))
            if not path.exists():
                row.state, row.message = ERROR, self.tr("The file does not exist (moved or deleted?).")
            elif path.suffix.lower() not in MEDIA_SUFFIXES:
                row.state = ERROR
                row.message = self.tr("Not an audio or video file Minutes can read ({0}).").format(
                    path.suffix or self.tr("no extension")
                )
            self.model.add(row)
            added += 1
        self._next()
        return added

    def add_demo(self) -> None:
        """The demo call, transcribed by this engine, in the Library of a new user."""
        from engine.transcript import Transcript

        if not DEMO_TRANSCRIPT.exists():
            return

        def work() -> str:
            transcript = Transcript.load(DEMO_TRANSCRIPT)
            meeting = self.app.library.add(transcript, DEMO_AUDIO, title="Demo: a phone call")
            return meeting.id

        self.background.run(work, self._meeting_saved, lambda e: log.warning("Demo meeting not added: %s", e))

    # -- queue actions ---------------------------------------------------------------------------
    @Slot(str)
    def cancel(self, job_id: str) -> None:
        row = self.model.get(job_id)
        if row is None or row.state in FINISHED:
            return
        if job_id == self.running and self.worker is not None:
            self.model.update(job_id, stage=self.tr("Cancelling…"))
            self.worker.cancel(job_id)
        else:
            self.model.update(job_id, state=CANCELLED)

    @Slot(str)
    def retry(self, job_id: str) -> None:
        row = self.model.get(job_id)
        if row is not None and row.state in (ERROR, CANCELLED):
            self.model.update(job_id, state=QUEUED, stage="", fraction=0.0, message="", started=None)
            self._next()

    @Slot(str)
    def remove(self, job_id: str) -> None:
        if job_id == self.running:
            self.cancel(job_id)
        self.model.remove(job_id)

    @Slot(str)
    def open_result(self, job_id: str) -> None:
        row = self.model.get(job_id)
        if row is not None and row.meeting_id:
            self.app.open_meeting(row.meeting_id)

    @Slot(bool)
    def _set_auto_export(self, on: bool) -> None:
        self.auto_export = on
        prefs = self.app.prefs
        prefs.auto_export = on
        self.app.settings.save(prefs)

    def preferences_changed(self, prefs) -> None:
        self.auto_export = prefs.auto_export
        self.view.set_options(self._default_options(prefs), auto_export=prefs.auto_export)
        if self.worker is not None and not self.busy() and self.worker.spec != self._spec(prefs.model):
            self._stop_worker(wait=False)  # the next job loads the new model or device

    def busy(self) -> bool:
        return any(r.state not in FINISHED for r in self.model.rows)

    # -- running ---------------------------------------------------------------------------------
    def _spec(self, model: str):
        from engine.recognizer import RecognizerSpec

        p = self.app.prefs
        return RecognizerSpec(
            None if model in ("", "base") else model, p.device or "auto", p.precision or "auto", p.threads or None
        )

    def _job(self, row: JobRow) -> FileJob:
        from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
        from engine.jobs import FileJob

        o, p = row.options, self.app.prefs
        options = TranscribeOptions(
            asr=AsrOptions(language=o.language or None, hotwords=o.hotwords or None, chinese=p.chinese),
            speakers=SpeakerOptions(num_speakers=o.speakers or None),
            chapters=ChapterOptions(keywords=o.agenda or None),
        )
        formats = tuple(p.formats()) if self.auto_export else ()
        return FileJob(
            row.job_id,
            row.path,
            options,
            formats=formats,
            output_dir=p.export_folder or None,
            model=self._spec(o.model),
            overwrite_hint=" (its new version was written beside it)",
        )

    def _next(self) -> None:
        if self.running is not None:
            return
        row = self.model.next_queued()
        if row is None:
            self._eta_timer.stop()
            self.app.window.set_job("")
            return
        if self.worker is None or not self.worker.alive:
            self._start_worker(self._spec(row.options.model))
        self.running = row.job_id
        self.model.update(row.job_id, state=RUNNING, stage=self.tr("Starting"), fraction=0.0, started=None)
        self.worker.submit(self._job(row))
        self._eta_timer.start()

    def _start_worker(self, spec) -> None:
        from engine.jobs import FileWorker

        self._stop_worker(wait=False)
        self.worker = FileWorker(spec).start()
        from engine.jobs import WorkerDied

        worker = self.worker
        self.pump = EventPump(
            worker,
            self._events,
            last=lambda e: isinstance(e, WorkerDied),
            idle_end=lambda: not worker.alive and not worker.pending,
            broken=lambda: WorkerDied(worker.process.exitcode, None, "The transcription process stopped."),
            name="minutes-file-events",
        )
        self.pump.start()

    def _stop_worker(self, wait: bool = True) -> None:
        """End the warm child. ``wait=False`` (a model or device change) ends it in a thread: its
        join took up to a second in the GUI thread, a freeze right after a click in Settings."""
        if self.pump is not None:
            self.pump.stopping.set()
        worker, self.worker, self.pump = self.worker, None, None
        if worker is None:
            return
        if wait:
            worker.stop(timeout=5)
        else:
            ender = threading.Thread(target=worker.stop, kwargs={"timeout": 5}, name="minutes-old-worker", daemon=True)
            ender.start()
            self._enders = [t for t in self._enders if t.is_alive()] + [ender]

    def kill_worker_for_test(self) -> int | None:
        """The child's pid after killing it (tests: a crash must become an error row)."""
        if self.worker is None:
            return None
        pid = self.worker.process.pid
        os.kill(pid, 9)
        return pid

    @Slot(object, object)
    def _on_event(self, worker, event) -> None:
        from engine.jobs import JobCancelled, JobDone, JobError, JobProgress, WorkerDied, WorkerReady

        if worker is not self.worker:
            return  # from a child we already let go
        if isinstance(event, WorkerReady):
            device = "GPU" if event.device == "cuda" else "CPU"
            self.app.window.set_device(f"{event.model} · {device} · {event.precision}")
        elif isinstance(event, JobProgress):
            self._progress(event)
        elif isinstance(event, JobDone):
            self._done(event)
        elif isinstance(event, JobError):
            if event.job_id is None:  # the model could not load: every waiting job would fail the same way
                self.app.window.statusBar().showMessage(event.message, 20000)
                if self.running is not None:
                    self._finish(self.running, ERROR, event.message)
                return
            self._finish(event.job_id, ERROR, event.message)
        elif isinstance(event, JobCancelled):
            self._finish(event.job_id, CANCELLED, "")
        elif isinstance(event, WorkerDied):
            job = event.job_id or self.running
            self.worker = self.pump = None
            if job is not None:
                self._finish(job, ERROR, event.message + " " + self.tr("Retry to run it again."))
            else:
                self._next()

    def _progress(self, e) -> None:
        job_id = e.job_id or self.running
        row = self.model.get(job_id) if job_id else None
        if row is None or row.state != RUNNING:
            return
        lo, hi = _STAGES.get(e.stage, (0.0, 1.0))
        fraction = lo + (hi - lo) * e.fraction if e.stage != "model" else 0.0
        stage = {
            "model": self.tr("Preparing the model"),
            "transcribe": self.tr("Transcribing"),
            "speakers": self.tr("Finding speakers"),
            "writing": self.tr("Writing files"),
            "done": self.tr("Saving"),
        }.get(e.stage, e.stage)
        if e.stage == "model" and e.message:
            stage = f"{stage}: {e.message}"
        self._model_dialog(e if e.stage == "model" else None)
        started = row.started
        if started is None and e.stage == "transcribe":
            started = time.monotonic()
        self.model.update(job_id, stage=stage, fraction=max(row.fraction, fraction), started=started)
        self.app.window.set_job(f"{row.name}: {stage}", max(row.fraction, fraction))

    def _model_dialog(self, e) -> None:
        """First use converts the model (~15 s): a progress dialog that does not block the window."""
        from PySide6.QtWidgets import QProgressDialog

        if e is None or e.fraction >= 1.0:
            if self._preparing is not None:
                self._preparing.reset()
                self._preparing.deleteLater()
                self._preparing = None
            return
        if self._preparing is None:
            if "load" in e.message.lower() and e.fraction == 0.0:
                return  # an ordinary load (a second or two): the row says it
            d = QProgressDialog(self.app.window)
            d.setWindowTitle(self.tr("Preparing the speech model"))
            d.setCancelButtonText(self.tr("Cancel"))
            d.setRange(0, 1000)
            d.setMinimumDuration(0)
            d.setWindowModality(Qt.WindowModality.NonModal)
            d.canceled.connect(self._cancel_running)
            self._preparing = d
        self._preparing.setLabelText(
            self.tr("First use: the model is converted for this computer (about 15 s, once).") + "\n" + e.message
        )
        self._preparing.setValue(round(1000 * e.fraction))

    @Slot()
    def _cancel_running(self) -> None:
        if self.running is not None:
            self.cancel(self.running)

    def _done(self, e) -> None:
        from engine.transcript import Transcript

        row = self.model.get(e.job_id)
        if row is None:
            self._release(e.job_id)
            return
        self.model.update(e.job_id, stage=self.tr("Saving"), written=list(e.written))
        for message in e.messages:
            self.app.window.statusBar().showMessage(message, 15000)
        audio, data = row.path, e.transcript

        def work() -> str:
            transcript = Transcript.from_dict(data)
            return self.app.library.add(transcript, audio).id

        def saved(meeting_id: str) -> None:
            self._finish(e.job_id, DONE, "", meeting_id=meeting_id)
            self._meeting_saved(meeting_id)
            view = self.app.window.current_view()
            if view in ("files", "library") or self.app.meeting_id is None:
                self.app.open_meeting(meeting_id)

        def failed(error: Exception) -> None:
            self._finish(e.job_id, ERROR, self.tr("Transcribed, but not saved: {0}").format(error))

        self.background.run(work, saved, failed)
        self._release(e.job_id)

    def _release(self, job_id: str) -> None:
        """The child is free: send it the next job (saving runs beside it)."""
        if job_id == self.running:
            self.running = None
            self._next()

    def _finish(self, job_id: str, state: str, message: str, **changes) -> None:
        self._model_dialog(None)
        self.model.update(job_id, state=state, message=message, finished=time.monotonic(), **changes)
        if state == ERROR:
            row = self.model.get(job_id)
            name = row.name if row else job_id
            self.app.window.statusBar().showMessage(self.tr("{0}: {1}").format(name, message), 15000)
        self._release(job_id)

    @Slot(str)
    def _meeting_saved(self, meeting_id: str) -> None:
        self.app.library_view.reload()
        self.meeting_added.emit(meeting_id)

    # -- meetings --------------------------------------------------------------------------------
    def reindex(self, meeting_id: str) -> None:
        """The editor saved the meeting's transcript: update the search index (off the GUI thread)."""
        library = self.app.library
        self.background.run(lambda: library.index(meeting_id), lambda _: self.app.library_view.reload())

    def export(self, transcript: Transcript, fmt: str, path: str, title: str | None = None) -> None:
        from engine.export import write

        options = {"title": title} if fmt == "docx" and title else {}
        status = self.app.window.statusBar()
        status.showMessage(self.tr("Exporting {0}…").format(Path(path).name))
        self.background.run(
            lambda: write(transcript, fmt, path, **options),
            lambda written: status.showMessage(self.tr("Exported {0}").format(written), 10000),
            lambda e: self.app.show_error(self.tr("The export failed: {0}").format(e)),
        )

    @Slot(str, str)
    def save_voice_profile(self, speaker_id: str, name: str) -> None:
        """Enrol the speaker's voice with the same command line users have (a separate process:
        it loads the speaker model, which the window's process never does)."""
        editor = self.app.editor
        editor.flush()
        path = editor.save_path()
        status = self.app.window.statusBar()
        if not path:
            status.showMessage(self.tr("Save the meeting first."), 10000)
            return
        proc = QProcess(self)
        proc.setProgram(sys.executable)
        code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
        proc.setArguments(["-c", code, "voices", "add", name, "--transcript", path, "--speaker", speaker_id])
        proc.setWorkingDirectory(str(Path(__file__).resolve().parents[1]))
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        status.showMessage(self.tr("Saving the voice of {0}…").format(name))

        def finished(code: int, _status) -> None:
            out = bytes(proc.readAll()).decode("utf-8", "replace").strip().splitlines()
            last = out[-1] if out else ""
            if code == 0:
                status.showMessage(self.tr("Saved the voice of {0}: later meetings name them.").format(name), 10000)
            else:
                self.app.show_error(self.tr("The voice of {0} was not saved: {1}").format(name, last))
            proc.deleteLater()

        proc.finished.connect(finished)
        proc.start()

    # -- closing ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        if self.running is not None and self.worker is not None:
            self.worker.cancel(self.running)
        for row in self.model.rows:
            if row.state in (QUEUED, RUNNING):
                self.model.update(row.job_id, state=CANCELLED)
        self.running = None
        self._stop_worker()
        for ender in self._enders:
            ender.join(10)
        self.background.wait(30000)


def _expand(paths: list[str]) -> list[Path]:
    """Files as given; folders walked (sorted) for media files. Duplicates dropped."""
    from engine.audio.decode import MEDIA_SUFFIXES

    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES))
        else:
            out.append(path)
    return list(dict.fromkeys(out))
