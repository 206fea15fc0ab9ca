"""A live session in a child process, driven by small picklable messages.

Why a child: the window's process must never wait on recognition, and speaker clustering
holds the GIL for up to a second (measured for file jobs: ~1 s stalls, 7-9 times a file).
In a child, the audio callback, decoding and clustering share no interpreter with the window;
a crash in a native library ends the child, not the window, and the recording is already
safe on disk (engine/audio/recorder.py), so the next start offers to recover it.

The child loads its recognizer at once (the window starts it when the Live view opens, so
Start records without waiting for the model), then waits for one command:

    parent -> child:   StartLive(options, streaming) | RecoverLive(folder, options), then
                       "pause" | "resume" | "stop" (strings), None = the parent is gone (stop)
    child -> parent:   LiveReady, LiveProgress, engine.live.events.LiveEvent (the session's events),
                       LiveFinished, LiveFailed
"""

from __future__ import annotations

import logging
import queue
import traceback
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Cancelled, MinutesError
from engine.recognizer import RecognizerSpec

log = logging.getLogger("minutes.live_worker")


@dataclass
class StartLive:
    options: Any  # engine.live.options.LiveOptions
    streaming: Any = None  # engine.asr.streaming.StreamingOptions; None: the defaults


@dataclass
class RecoverLive:
    folder: str
    options: Any = None  # engine.file_job.TranscribeOptions


@dataclass
class LiveReady:
    model: str
    device: str
    precision: str


@dataclass
class LiveProgress:
    stage: str  # "model" | "final" | "recover"
    fraction: float
    message: str = ""


@dataclass
class LiveFinished:
    transcript: dict[str, Any]  # Transcript.to_dict()
    folder: str  # the session folder (audio.wav, session.json, transcript.json)
    recovered: bool = False


@dataclass
class LiveFailed:
    message: str  # one line, for the user
    folder: str | None = None  # a session folder that holds audio, if one was started
    details: list[str] = field(default_factory=list)


def serve_live(inbox, outbox, spec: RecognizerSpec) -> None:
    """The child's main: load, wait for a start, run the session until stop. Target of a spawned process."""
    from engine.file_job import TranscribeProgress

    def progress(p: TranscribeProgress) -> None:
        outbox.put(LiveProgress(p.stage, float(p.fraction), p.message))

    try:
        recognizer = spec.load(progress)
    except (MinutesError, Cancelled) as e:
        outbox.put(LiveFailed(_one_line(e)))
        return
    outbox.put(LiveReady(recognizer.model_name, recognizer.device, recognizer.precision))
    command = _get(inbox)
    try:
        if isinstance(command, StartLive):
            _run_session(recognizer, command, inbox, outbox)
        elif isinstance(command, RecoverLive):
            _recover(recognizer, command, outbox)
    except Exception as e:  # noqa: BLE001 - a bug: the parent shows one line, the log has the rest
        log.error("Live session failed:\n%s", traceback.format_exc())
        outbox.put(LiveFailed(f"Internal error ({type(e).__name__}: {_one_line(e)}).", None))


def _get(inbox, timeout: float | None = None):
    try:
        return inbox.get(timeout=timeout)
    except queue.Empty:
        raise
    except (EOFError, OSError):  # the parent is gone
        return None


def _run_session(recognizer, command: StartLive, inbox, outbox) -> None:
    from engine.live.session import LiveSession

    session = LiveSession(recognizer, command.options, command.streaming)
    session.subscribe(outbox.put)  # a multiprocessing queue's put never blocks the caller
    try:
        session.start()
    except MinutesError as e:
        outbox.put(LiveFailed(_one_line(e), str(session.folder) if session.folder else None))
        return
    while True:
        try:
            msg = _get(inbox, timeout=0.2)
        except queue.Empty:
            if session.finished_input():  # a file source played to its end
                break
            continue
        if msg == "pause":
            session.pause()
        elif msg == "resume":
            session.resume()
        elif msg in ("stop", None):
            break

    def final(p) -> None:
        outbox.put(LiveProgress("final", float(p.fraction), p.message))

    try:
        transcript = session.stop(progress=final)
    except MinutesError as e:
        outbox.put(LiveFailed(_one_line(e), str(session.folder)))
        return
    outbox.put(LiveFinished(transcript.to_dict(), str(session.folder)))


def _recover(recognizer, command: RecoverLive, outbox) -> None:
    from engine.live.session import LiveSession

    def progress(p) -> None:
        outbox.put(LiveProgress("recover", float(p.fraction), p.message))

    try:
        transcript = LiveSession.recover(command.folder, recognizer, command.options, progress)
    except (MinutesError, Cancelled) as e:
        outbox.put(LiveFailed(_one_line(e), command.folder))
        return
    outbox.put(LiveFinished(transcript.to_dict(), command.folder, recovered=True))


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


class LiveWorker:
    """The parent's side: one spawned child for one live session (or one recovery)."""

    def __init__(self, spec: RecognizerSpec, context: str = "spawn") -> None:
        import multiprocessing as mp

        self.ctx = mp.get_context(context)
        self.inbox = self.ctx.Queue()
        self.outbox = self.ctx.Queue()
        self.spec = spec
        self.process = self.ctx.Process(
            target=serve_live, args=(self.inbox, self.outbox, spec), name="minutes-live-worker", daemon=True
        )
        self.finished = False  # LiveFinished or LiveFailed seen

    def start(self) -> LiveWorker:
        self.process.start()
        return self

    def send(self, message) -> None:
        self.inbox.put(message)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def next_event(self, timeout: float = 0.5):
        """The next event; None after ``timeout``; a LiveFailed once if the child died unasked."""
        try:
            event = self.outbox.get(timeout=timeout)
        except queue.Empty:
            if self.process.is_alive() or self.finished:
                return None
            try:
                return self.outbox.get(timeout=0.2)  # what it sent last comes first
            except queue.Empty:
                pass
            self.finished = True
            code = self.process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            return LiveFailed(
                f"The live transcription process stopped unexpectedly ({how}). The recording is safe on "
                "disk: the next start offers to recover it."
            )
        if isinstance(event, LiveFinished | LiveFailed):
            self.finished = True
        return event

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the session to finish (it saves), then wait; kill only if it does not end."""
        if self.process.is_alive():
            self.inbox.put("stop")
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
