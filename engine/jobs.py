"""File jobs as messages: a picklable job, one entry point, and the loop a child process runs.

Why a child process: speaker clustering holds the GIL for up to a second at a time, so a file
job in a thread of the window's process freezes the window (measured: ~1 s, 7-9 times per file).
The window therefore runs file jobs in one spawned child that keeps its model loaded between
jobs (the second file does not load it again), and talks to it with small picklable messages:

    parent -> child (inbox):   FileJob, CancelJob(job_id), Shutdown()
    child -> parent (outbox):  WorkerReady, JobProgress, JobSegments, JobDone, JobError,
                               JobCancelled (and JobProgress with job_id None while the model
                               is prepared)

A child that dies (killed, out of memory, a crash in a native library) sends nothing more; the
parent sees its process end (:class:`FileWorker` turns that into a ``WorkerDied`` event).

``run_file_job`` is the same entry point for everyone: the CLI calls it in its own process, the
child loop (:func:`serve`) calls it for each job. It transcribes, then writes the chosen formats
with the no-overwrite rule of engine/export/naming.py. A user's cancel is not an error: it ends
in ``JobCancelled``; a problem with the input is one ``JobError`` line a user understands.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Cancelled, MinutesError
from engine.file_job import TranscribeOptions, TranscribeProgress
from engine.recognizer import RecognizerSpec

if TYPE_CHECKING:
    from engine.recognizer import Recognizer
    from engine.transcript import Transcript

log = logging.getLogger("minutes.jobs")

PULSE_SECONDS = 0.4  # a progress event at least this often while a job or a model preparation runs


# -- the job ---------------------------------------------------------------------------------------
@dataclass
class FileJob:
    """One file to transcribe and where its results go. Picklable (it crosses to the child)."""

    id: str
    audio: str | Path
    options: TranscribeOptions = field(default_factory=TranscribeOptions)
    formats: tuple[str, ...] = ("json",)  # engine.export.FORMATS; empty: transcribe only
    output_dir: str | Path | None = None  # None: beside the audio file
    overwrite: bool = False  # replace existing results even if edited (else they are kept: <name>.1.json)
    export_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per format: {"docx": {"title": ...}}
    name: str | None = None  # base name of the results; None: the audio's stem (see naming.output_names)
    taken: tuple[str | Path, ...] = ()  # files other results of the same run wrote: never replaced
    overwrite_hint: str = ""  # follows "changed since Minutes wrote it" in the message (how to replace)
    model: RecognizerSpec | None = None  # None: the worker's recognizer; else loaded (once) for this job

    @property
    def folder(self) -> Path:
        return Path(self.output_dir) if self.output_dir is not None else Path(self.audio).parent


@dataclass
class CancelJob:
    """Cancel that job: the running one stops within a second, a queued one never starts."""

    job_id: str


@dataclass
class Shutdown:
    """Cancel the running job (if any) and end the loop."""


# -- events (child -> parent) ----------------------------------------------------------------------
@dataclass
class WorkerReady:
    """The recognizer is loaded: what the status bar shows."""

    model: str
    device: str  # "cpu" | "cuda"
    precision: str


@dataclass
class JobProgress:
    """``stage``: "model" (preparing the model, first use: job_id may be None), "transcribe",
    "speakers", "writing", "done"; ``fraction`` 0..1 of the stage."""

    job_id: str | None
    stage: str
    fraction: float
    message: str = ""


@dataclass
class JobSegments:
    """Segments found so far, in the transcript JSON's form (speakers come with JobDone)."""

    job_id: str
    segments: list[dict[str, Any]]


@dataclass
class JobDone:
    job_id: str
    transcript: dict[str, Any]  # Transcript.to_dict(); Transcript.from_dict() reads it back
    written: list[str]  # the files written, in the job's format order
    messages: list[str] = field(default_factory=list)  # e.g. "kept 'x.json': ...; this result is in 'x.1.json'."
    seconds: float = 0.0  # wall time of the job


@dataclass
class JobError:
    job_id: str | None  # None: the worker could not load its model (before any job)
    message: str  # one line, for the user


@dataclass
class JobCancelled:
    job_id: str


@dataclass
class WorkerDied:
    """Made by the parent (FileWorker): the child process ended without being asked to."""

    exitcode: int | None
    job_id: str | None  # the job it was running, if any
    message: str = ""


Event = WorkerReady | JobProgress | JobSegments | JobDone | JobError | JobCancelled | WorkerDied
Emit = Callable[[Event], None]


@dataclass
class JobResult:
    """What run_file_job returns (the events carry the same)."""

    job_id: str
    status: str  # "done" | "error" | "cancelled"
    transcript: Transcript | None = None
    written: list[Path] = field(default_factory=list)  # also after an error half-way through writing
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


# -- the entry point -------------------------------------------------------------------------------
class Pulse:
    """Progress for ``emit``, at least every ``every`` seconds: between the engine's own reports
    (an ONNX export step, a batch of windows, speaker clustering) the last one is repeated, so a
    bar and an ETA keep moving and the parent can tell a busy child from a hung one. Calls to
    ``emit`` never overlap (one lock)."""

    def __init__(self, emit: Emit, job_id: str | None, every: float | None = PULSE_SECONDS):
        self.emit = emit
        self.job_id = job_id
        self.every = every
        self._lock = threading.Lock()
        self._last: JobProgress | None = None
        self._at = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Pulse:
        if self.every:
            self._thread = threading.Thread(target=self._run, name="minutes-pulse", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def __call__(self, p: TranscribeProgress) -> None:
        """An engine ProgressCallback."""
        if p.new_segments:
            from engine.transcript import segment_to_dict

            self.send(JobSegments(self.job_id or "", [segment_to_dict(s) for s in p.new_segments]))
        self.progress(p.stage, p.fraction, p.message)

    def progress(self, stage: str, fraction: float, message: str = "") -> None:
        if not message and self._last is not None and self._last.stage == stage:
            message = self._last.message  # keep saying what is being done
        self._last = JobProgress(self.job_id, stage, round(max(0.0, min(1.0, float(fraction))), 4), message)
        self.send(self._last)

    def send(self, event: Event) -> None:
        with self._lock:
            self._at = time.monotonic()
            self.emit(event)

    def _run(self) -> None:
        while not self._stop.wait(self.every / 4):
            last = self._last
            if last is not None and time.monotonic() - self._at >= self.every:
                self.send(last)


def run_file_job(
    recognizer: Recognizer,
    job: FileJob,
    emit: Emit,
    cancel: threading.Event | None = None,
    pulse: float | None = PULSE_SECONDS,
) -> JobResult:
    """Transcribe ``job.audio`` and write ``job.formats``; every step is told to ``emit``.

    Ends with exactly one JobDone, JobError or JobCancelled event, and returns the same as a
    JobResult. A problem with the input or the output folder is a JobError (one line);
    ``cancel`` set from any thread stops the job within a decoding step (JobCancelled, nothing
    written). Other exceptions are bugs and propagate. ``pulse``: repeat the last progress at
    least this often (None: only the engine's own reports, as the CLI's bar needs).
    """
    from engine.export.naming import write_outputs

    t0 = time.perf_counter()
    written: list[Path] = []
    messages: list[str] = []
    with Pulse(emit, job.id, pulse) as report:

        def progress(p: TranscribeProgress) -> None:
            if p.stage != "done":  # done is said once the files are written
                report(p)

        try:
            transcript = recognizer.transcribe(job.audio, job.options, progress, cancel)
            if job.formats:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Transcription cancelled.")
                report.progress("writing", 0.0, f"Writing {', '.join(job.formats)}")
                write_outputs(
                    transcript,
                    job.folder,
                    job.name or Path(job.audio).stem,
                    job.formats,
                    [Path(p) for p in job.taken],
                    job.overwrite,
                    job.export_options,
                    say=messages.append,
                    hint=job.overwrite_hint,
                    written=written,
                )
        except Cancelled:
            report.send(JobCancelled(job.id))
            return JobResult(job.id, "cancelled", written=written, messages=messages, seconds=_since(t0))
        except MinutesError as e:
            report.send(JobError(job.id, _one_line(e)))
            return JobResult(
                job.id, "error", written=written, messages=messages, error=_one_line(e), seconds=_since(t0)
            )
        took = _since(t0)
        report.progress("done", 1.0, "Done")
        report.send(JobDone(job.id, transcript.to_dict(), [str(p) for p in written], list(messages), took))
    return JobResult(job.id, "done", transcript, written, messages, seconds=took)


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


# -- the child's loop --------------------------------------------------------------------------------
def serve(inbox, outbox, spec: RecognizerSpec | None = None) -> None:
    """Run file jobs from ``inbox`` until Shutdown (or None), events to ``outbox``; the model stays loaded.

    Both are multiprocessing queues (anything with ``get``/``put``). ``spec``: the recognizer
    to load at once (so that its preparation shows before the first job); None: the first
    job's. Meant as the target of a spawned process (see FileWorker)."""
    Worker(inbox, outbox).run(spec)


class Worker:
    """The loop of :func:`serve`: a reader thread takes messages as they come (so a cancel
    reaches the running job), the main thread runs the jobs one after the other."""

    def __init__(self, inbox, outbox):
        self.inbox = inbox
        self.outbox = outbox
        self.jobs: queue.Queue = queue.Queue()
        self.recognizer: Recognizer | None = None
        self.loaded: RecognizerSpec | None = None
        self.current: str | None = None
        self.cancel = threading.Event()
        self.dropped: set[str] = set()  # cancelled before they started
        self.stopping = False
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        self.outbox.put(event)

    def run(self, spec: RecognizerSpec | None) -> None:
        reader = threading.Thread(target=self._read, name="minutes-inbox", daemon=True)
        reader.start()
        if spec is not None:
            try:
                self._recognizer(spec, None)
            except (MinutesError, Cancelled) as e:
                if not isinstance(e, Cancelled):
                    self.emit(JobError(None, _one_line(e)))
        while True:
            job = self.jobs.get()
            if job is None:
                break
            with self._lock:
                if job.id in self.dropped or self.stopping:
                    self.dropped.discard(job.id)
                    self.emit(JobCancelled(job.id))
                    continue
                self.current = job.id
                self.cancel.clear()
            try:
                self._run(job)
            except Exception as e:  # noqa: BLE001 - a bug in one job: an error row, the worker goes on
                log.error("File job %s failed:\n%s", job.id, traceback.format_exc())
                self.emit(JobError(job.id, f"Internal error ({type(e).__name__}: {_one_line(e)}); see the log."))
            finally:
                with self._lock:
                    self.current = None

    def _run(self, job: FileJob) -> None:
        spec = job.model or self.loaded or RecognizerSpec()
        try:
            recognizer = self._recognizer(spec, job.id)
        except Cancelled:
            self.emit(JobCancelled(job.id))
            return
        except MinutesError as e:
            self.emit(JobError(job.id, _one_line(e)))
            return
        run_file_job(recognizer, job, self.emit, self.cancel)

    def _recognizer(self, spec: RecognizerSpec, job_id: str | None) -> Recognizer:
        if self.recognizer is not None and spec == self.loaded:
            return self.recognizer
        self.recognizer = self.loaded = None  # one model at a time: free the old one first
        from engine.recognizer import needs_preparation, prepare_apart

        with Pulse(self.emit, job_id) as report:
            report.progress("model", 0.0, "Loading the model")
            try:
                prepare = needs_preparation(spec, report, self.cancel)
            except MinutesError:
                prepare = False  # loading says what is wrong
            if prepare:  # first use: converted in a process of its own (torch, GIL-heavy steps)
                prepare_apart(spec, report, self.cancel)
            recognizer = spec.load(report, self.cancel)
            report.progress("model", 1.0, "Model ready")
        self.recognizer, self.loaded = recognizer, spec
        self.emit(WorkerReady(recognizer.model_name, recognizer.device, recognizer.precision))
        return recognizer

    def _read(self) -> None:
        while True:
            try:
                msg = self.inbox.get()
            except (EOFError, OSError):  # the parent is gone
                msg = None
            if isinstance(msg, FileJob):
                self.jobs.put(msg)
            elif isinstance(msg, CancelJob):
                with self._lock:
                    if msg.job_id == self.current:
                        self.cancel.set()
                    else:
                        self.dropped.add(msg.job_id)
            elif msg is None or isinstance(msg, Shutdown):
                with self._lock:
                    self.stopping = True
                    self.cancel.set()
                self.jobs.put(None)
                return


# -- the parent's side (plain multiprocessing; the window wraps it in a Qt worker) -----------------
class FileWorker:
    """One warm child process running :func:`serve`, spawned (no fork: safe beside threads and Qt).

    ``submit`` and ``cancel`` send messages; ``next_event`` returns the child's events in order
    and, once the child has ended without a Shutdown, one WorkerDied naming the job it was
    running (the parent shows it as failed and may start a new worker for the rest)."""

    def __init__(self, spec: RecognizerSpec | None = None, context: str = "spawn"):
        import multiprocessing as mp

        self.ctx = mp.get_context(context)
        self.spec = spec
        self.inbox = self.ctx.Queue()
        self.outbox = self.ctx.Queue()
        self.process = self.ctx.Process(
            target=serve, args=(self.inbox, self.outbox, spec), name="minutes-file-worker", daemon=True
        )
        self.pending: list[str] = []  # submitted, not finished, in order: the first one is running
        self._shutdown = False
        self._died_reported = False

    def start(self) -> FileWorker:
        self.process.start()
        return self

    def submit(self, job: FileJob) -> None:
        self.pending.append(job.id)
        self.inbox.put(job)

    def cancel(self, job_id: str) -> None:
        self.inbox.put(CancelJob(job_id))

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                event = self.outbox.get(timeout=0.1)
            except queue.Empty:
                if not self.process.is_alive():
                    return self._died()
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            if isinstance(event, JobDone | JobError | JobCancelled) and event.job_id in self.pending:
                self.pending.remove(event.job_id)
            return event

    def _died(self) -> Event | None:
        try:  # what it sent before it died comes first
            event = self.outbox.get(timeout=0.2)
            return event
        except queue.Empty:
            pass
        if self._died_reported or self._shutdown:
            return None
        self._died_reported = True
        self.process.join(1)
        job = self.pending.pop(0) if self.pending else None
        code = self.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return WorkerDied(code, job, f"The transcription process stopped unexpectedly ({how}).")

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what runs, end the loop, wait for the child (killed if it does not end)."""
        self._shutdown = True
        if self.process.is_alive():
            self.inbox.put(Shutdown())
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
