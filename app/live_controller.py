"""The Live view's controller: a live session in a child process, its events in the Live view.

The child (engine/live/worker.py) is started when the Live view first opens, so the model is
loaded before the user presses Start. A thread of ours waits on the child's events and hands
each one to a slot of this object (GUI thread), which turns it into view calls. Stop lets the
session finish its last words and save; the session becomes a meeting in the Library (off the
GUI thread) and opens in the editor. An interrupted session found at start-up is offered for
recovery, which the same kind of child runs.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from app.background import Background, EventPump, WorkerEvents
from ui.live.view import IDLE, PAUSED, RECORDING, STARTING, STOPPING

if TYPE_CHECKING:
    from app.window import App
    from engine.live.worker import LiveWorker

log = logging.getLogger("minutes.gui")

# input and session states that a user must see (engine.live.events.SessionState); the others are progress
PROBLEM_STATES = ("lost", "waiting", "reconnecting", "recording_error", "error", "final_pass_cancelled")


class LiveController(QObject):
    """Lives in the GUI thread; owns at most one live child."""

    finished = Signal(str)  # the meeting id of a stopped (or recovered) session

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.app = app
        self.view = app.live_view
        self.background = Background(self)
        self.worker: LiveWorker | None = None
        self.pump: EventPump | None = None
        self.ready = False
        self.state = IDLE
        self.recovering = False
        self.pending_start = None  # a StartLive waiting for the model
        self._segments: dict[int, float] = {}  # segment index -> start (for chapter markers)
        self._open: dict[int, str] = {}  # confirmed text of open segments
        self._events = WorkerEvents(self)
        self._events.arrived.connect(self._on_event)
        v = self.view
        for signal, slot in ((v.start_requested, self.start), (v.pause_requested, self.pause)):
            signal.connect(slot)
        for signal, slot in ((v.resume_requested, self.resume), (v.stop_requested, self.stop)):
            signal.connect(slot)
        app.window.view_changed.connect(self._on_view_changed)

    # -- the child -------------------------------------------------------------------------------
    def _spec(self):
        from engine.recognizer import RecognizerSpec

        p = self.app.prefs
        model = None if p.model in ("", "base") else p.model
        return RecognizerSpec(
            model, p.device or "auto", "int8" if p.precision == "auto" else p.precision, p.threads or None
        )

    def prepare(self) -> None:
        """Start the child and load the model now (the Live view opened)."""
        if self.worker is not None and self.worker.alive:
            return
        from engine.live.worker import LiveWorker

        self.ready = False
        self.worker = LiveWorker(self._spec()).start()
        from engine.live.worker import LiveFailed, LiveFinished

        worker = self.worker
        self.pump = EventPump(
            worker,
            self._events,
            last=lambda e: isinstance(e, LiveFinished | LiveFailed),
            idle_end=lambda: worker.finished,
            name="minutes-live-events",
        )
        self.pump.start()
        self.app.window.statusBar().showMessage(self.tr("Loading the model for live transcription…"), 5000)

    @Slot(str)
    def _on_view_changed(self, key: str) -> None:
        if key == "live":
            self.refresh_devices()
            if self.state == IDLE:
                self.prepare()

    def refresh_devices(self) -> None:
        def work():
            from engine.audio.capture import list_devices

            devices = list_devices()
            return [d.name for d in devices if not d.loopback], [d.name for d in devices if d.loopback]

        def done(result) -> None:
            mics, system = result
            p = self.app.prefs
            if self.state == IDLE:
                self.view.set_devices(mics, system, p.input_device, p.system_audio_device)
            self.app.settings_view.set_input_devices(mics, system)

        self.background.run(work, done, lambda e: self.view.show_warning(self.tr("No audio inputs: {0}").format(e)))

    # -- commands from the view ------------------------------------------------------------------
    @Slot(str, str, str)
    def start(self, microphone: str, system: str, agenda: str, from_file: str | None = None) -> None:
        """Record from ``microphone`` (and ``system`` audio mixed in), or play ``from_file`` (tests)."""
        from engine.live.options import LiveOptions

        if self.state != IDLE:
            return
        p = self.app.prefs
        if not from_file:
            p.input_device, p.system_audio_device = microphone, system
            self.app.settings.save(p)
        options = LiveOptions(
            input_device=microphone or None,
            system_device=system or None,
            from_file=from_file,
            realtime=True,
            keywords=agenda or None,
        )
        self._segments, self._open = {}, {}
        self.view.reset()
        self._set_state(STARTING)
        self.prepare()
        from engine.asr.streaming import StreamingOptions
        from engine.live.worker import StartLive

        self.pending_start = StartLive(options, StreamingOptions(language=p.language or None))
        if self.ready:
            self._send_start()
        else:
            self.view.set_state(STARTING, self.tr("Loading the model…"))

    def _send_start(self) -> None:
        if self.pending_start is not None and self.worker is not None:
            self.worker.send(self.pending_start)
            self.pending_start = None

    @Slot()
    def pause(self) -> None:
        if self.state == RECORDING and self.worker is not None:
            self.worker.send("pause")
            self._set_state(PAUSED)

    @Slot()
    def resume(self) -> None:
        if self.state == PAUSED and self.worker is not None:
            self.worker.send("resume")
            self._set_state(RECORDING)

    @Slot()
    def stop(self) -> None:
        if self.state in (RECORDING, PAUSED) and self.worker is not None:
            self.worker.send("stop")
            self._set_state(STOPPING)

    def active(self) -> bool:
        return self.state in (STARTING, RECORDING, PAUSED, STOPPING) or self.recovering

    def _set_state(self, state: str, message: str = "") -> None:
        self.state = state
        self.view.set_state(state, message)
        self.app.window.set_live(state in (RECORDING, PAUSED))

    # -- recovery --------------------------------------------------------------------------------
    def offer_recovery(self) -> None:
        """After a crash: the interrupted recording is still on disk; ask to transcribe it."""
        from engine.audio.recorder import unfinished_sessions

        sessions = unfinished_sessions()
        if not sessions or self.active():
            return
        s = sessions[-1]
        answer = QMessageBox.question(
            self.app.window,
            self.tr("Recover the interrupted recording?"),
            self.tr(
                "A live recording from {0} ({1} min of audio) was interrupted. Its audio is safe. "
                "Transcribe it now and add it to the Library?"
            ).format(s.started, f"{s.seconds / 60:.1f}"),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.recover(str(s.folder))

    def recover(self, folder: str) -> None:
        from engine.live.worker import RecoverLive

        self._stop_worker()
        self.recovering = True
        self.prepare()
        self.worker.send(RecoverLive(folder))
        self.app.window.set_job(self.tr("Recovering the interrupted recording…"), 0.0)

    # -- events ----------------------------------------------------------------------------------
    @Slot(object, object)
    def _on_event(self, worker, event) -> None:
        from engine.live.events import LiveEvent
        from engine.live.worker import LiveFailed, LiveFinished, LiveProgress, LiveReady

        if worker is not self.worker:
            return
        if isinstance(event, LiveEvent):
            self._live_event(event)
        elif isinstance(event, LiveReady):
            self.ready = True
            device = "GPU" if event.device == "cuda" else "CPU"
            self.app.window.set_device(f"{event.model} · {device} · {event.precision}")
            self._send_start()
        elif isinstance(event, LiveProgress):
            if event.stage == "model" and self.state == STARTING:
                self.view.set_state(STARTING, self.tr("Preparing the model… {0} %").format(round(100 * event.fraction)))
            elif event.stage == "recover":
                self.app.window.set_job(self.tr("Recovering the interrupted recording…"), event.fraction)
        elif isinstance(event, LiveFinished):
            self._finished(event)
        elif isinstance(event, LiveFailed):
            self._failed(event)

    def _live_event(self, e) -> None:
        d = e.to_dict()
        kind = str(getattr(e.type, "value", e.type))
        if kind == "started":
            self._set_state(RECORDING)
        elif kind == "partial":
            self.view.show_partial(e.text or "")
        elif kind == "confirmed":
            seg = d.get("segment")
            if seg is not None:
                text = (self._open.get(seg, "") + " " + (e.text or "")).strip()
                self._open[seg] = text
                self.view.show_confirmed(seg, text)
            self.view.show_partial("")
        elif kind == "segment":
            seg = d.get("segment")
            if seg is not None:
                self._segments[seg] = float(e.audio_start or 0.0)
                self._open.pop(seg, None)
                self.view.finish_segment(seg, e.text or "")
                if d.get("speaker"):
                    self.view.set_speaker(seg, d["speaker"], _speaker_name(d["speaker"]))
        elif kind == "speaker":
            updates = d.get("updates")
            if updates is None and "segment" in d:
                updates = [[d["segment"], d.get("speaker")]]
            for seg, speaker in updates or []:
                if speaker:
                    self.view.set_speaker(int(seg), speaker, _speaker_name(speaker))
        elif kind == "chapter":
            marks = []
            for c in d.get("chapters", []):
                first = next((i for i, s in sorted(self._segments.items()) if s >= c["start"] - 0.5), None)
                if first is not None:
                    marks.append((first, c.get("title") or ""))
            self.view.set_chapters(marks)
        elif kind == "level":
            levels = d.get("sources") or {}
            self.view.set_levels(levels.get("microphone", d.get("dbfs")), levels.get("system"))
        elif kind == "status":
            state, message = d.get("state", ""), d.get("message", "")
            if state == "catching_up":
                self.view.show_warning(message)
            elif state == "live":
                self.view.show_warning("")
            elif state in ("paused", "recording") and state != self.state and self.state in (PAUSED, RECORDING):
                self._set_state(PAUSED if state == "paused" else RECORDING)
            elif state in PROBLEM_STATES and message:
                self.view.show_warning(message)
            elif state == "capturing":
                self.view.show_warning("")  # the input is back

    def _finished(self, e) -> None:
        from engine.transcript import Transcript

        folder = e.folder
        library = self.app.library
        self._set_state(STOPPING, self.tr("Saving the meeting…"))

        def work() -> str:
            try:
                return library.import_session(folder).id
            except Exception:  # noqa: BLE001 - the session folder is kept; add what the child sent
                log.warning("import_session failed; adding the transcript", exc_info=True)
                return library.add(Transcript.from_dict(e.transcript), None, source="live", session=folder).id

        def saved(meeting_id: str) -> None:
            self.recovering = False
            self.app.window.set_job("")
            self._set_state(IDLE)
            self.app.library_view.reload()
            self.finished.emit(meeting_id)
            self.app.open_meeting(meeting_id)

        def failed(error: Exception) -> None:
            self.recovering = False
            self._set_state(IDLE)
            self.app.show_error(
                self.tr("The meeting was recorded in {0} but could not be added to the Library: {1}").format(
                    folder, error
                )
            )

        self._release_worker()
        self.background.run(work, saved, failed)

    def _failed(self, e) -> None:
        self.recovering = False
        self.app.window.set_job("")
        was = self.state
        self._set_state(IDLE)
        self._release_worker()
        message = e.message
        if e.folder and was in (RECORDING, PAUSED, STOPPING):
            message += " " + self.tr("What was recorded is in {0}.").format(e.folder)
        self.view.show_warning(message)
        if was != IDLE:
            self.app.show_error(message)

    def _release_worker(self) -> None:
        """The child has ended its session: let it go (the next Live view visit starts a new one)."""
        if self.pump is not None:
            self.pump.stopping.set()
        self.worker = self.pump = None
        self.ready = False  # the child exits by itself; multiprocessing reaps it (no join here: it blocked 100 ms)

    def _stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop(timeout=5)
        self._release_worker()

    # -- closing ---------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 60.0) -> None:
        """Closing the window: a recording is stopped and saved, never dropped."""
        from engine.live.worker import LiveFailed, LiveFinished

        worker = self.worker
        if worker is None:
            self.background.wait(30000)
            return
        if self.pump is not None:
            self.pump.stopping.set()
            self.pump.join(2)
        if self.state in (RECORDING, PAUSED, STOPPING) and worker.alive:
            worker.send("stop")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                event = worker.next_event(0.5)
                if isinstance(event, LiveFinished):
                    try:
                        self.app.library.import_session(event.folder)
                    except Exception:  # noqa: BLE001 - the session folder stays; recovery lists it
                        log.warning("import at shutdown failed", exc_info=True)
                    break
                if isinstance(event, LiveFailed) or (event is None and not worker.alive):
                    break
        worker.stop(timeout=5)
        self.worker = self.pump = None
        self.state = IDLE
        self.background.wait(30000)


def _speaker_name(speaker_id: str) -> str:
    """S3 -> Speaker 3 (the transcript's default names)."""
    return f"Speaker {speaker_id[1:]}" if speaker_id[:1] == "S" and speaker_id[1:].isdigit() else speaker_id
