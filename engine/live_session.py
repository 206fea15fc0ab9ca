"""The live session: capture -> crash-safe recorder -> streaming recognizer -> speakers -> chapters.

Built on a loaded ``engine.recognizer.Recognizer``, whose decoder, tokenizer, voice detector and
speaker model it shares with file jobs; the pieces that are not recognition (events, the file
source, the event log) are in engine/live.py.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from pathlib import Path

import numpy as np

from engine.errors import Cancelled, MinutesError
from engine.file_job import ProgressCallback, TranscribeOptions
from engine.recognizer import Recognizer
from engine.transcript import AudioInfo, ModelInfo, Segment, Transcript

log = logging.getLogger("minutes.live_session")


class LiveSession:
    """A live meeting: capture -> crash-safe recorder -> streaming recognizer -> speakers -> chapters.

    Subscribers (plain callables, :meth:`subscribe`) receive :class:`engine.live.LiveEvent`s from
    the session's threads and must return quickly (a GUI posts them to its own thread). Audio is
    on disk before it is recognized, so a crash loses at most a second (engine/audio/recorder.py);
    recognition runs in its own thread on whatever audio has arrived, so slow compute means
    longer chunks, never a growing delay (engine/asr/streaming.py). Speaker labels and chapters
    run in a third thread, off the recognizer's path. :meth:`stop` returns the Transcript.
    """

    def __init__(self, engine: Recognizer, options=None, streaming=None, tracker=None, chapters=None):
        from engine.asr.streaming import StreamingOptions, StreamingRecognizer
        from engine.live import LiveOptions

        self.engine = engine  # the shared models; ``recognizer`` is this session's streaming state
        self.options = options or LiveOptions()
        self.streaming = streaming or StreamingOptions()
        vad = engine.vad(min_silence_ms=int(self.streaming.pause_seconds * 1000))
        self.recognizer = StreamingRecognizer(engine.live_model(), engine.tokenizer, self.streaming, vad)
        self.tracker = tracker if tracker is not None else self._default_tracker()
        self.chapter_tracker = chapters
        self.segments: list[Segment] = []
        self._turns: list[tuple[float, float, str]] = []  # the last re-clustering: who spoke when
        self.chapters: list = []
        self.recorder = None
        self.source = None
        self.started_wall = 0.0
        self._subs: list = []
        self._broken: set[int] = set()
        self._inbox: list = []
        self._inbox_samples = 0
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._stopping = False
        self._post: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._last_partial: tuple | None = None
        self._level_due = 0
        self._catching_up = False
        self._recording_error = False
        self._cancel_final = threading.Event()

    # -- subscribers ---------------------------------------------------------------------------
    def subscribe(self, callback) -> None:
        self._subs.append(callback)

    def _emit(self, type_: str, audio_start=None, audio_end=None, text=None, wall=None, **data) -> None:
        from engine.live import LiveEvent

        event = LiveEvent(type_, wall or time.time(), audio_start, audio_end, text, data)
        for sub in list(self._subs):
            try:
                sub(event)
            except Exception:  # noqa: BLE001 - a broken display must not stop the recording
                if id(sub) not in self._broken:
                    self._broken.add(id(sub))
                    log.exception("A live event subscriber failed (reported once; the session goes on)")

    # -- life cycle ----------------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        return self.recorder.folder if self.recorder else None

    @property
    def backlog_seconds(self) -> float:
        """Audio received but not yet given to the recognizer."""
        return self._inbox_samples / 16000

    @property
    def audio_seconds(self) -> float:
        return self.recorder.seconds if self.recorder else 0.0

    def start(self) -> None:
        """Open the input and the session folder; raises MinutesError (DeviceError, AudioError) if it cannot."""
        from engine.audio.capture import Capture
        from engine.audio.recorder import Recorder
        from engine.live import FileSource

        o = self.options
        if o.from_file:
            self.source = FileSource(
                o.from_file,
                self._on_audio,
                self._on_status,
                realtime=o.realtime,
                busy=lambda: self.backlog_seconds > 1.0,
                loops=o.loops,
            )
        elif o.system_device:
            from engine.audio.mixer import MixedCapture

            self.source = MixedCapture(o.input_device, o.system_device, self._on_audio, self._on_status)
        else:
            self.source = Capture(o.input_device, self._on_audio, self._on_status)
        info = {"input": str(o.from_file or o.input_device or "default"), "language": self.streaming.language}
        self.recorder = Recorder(Path(o.folder) if o.folder else None, info)
        self.started_wall = time.time()
        self._emit("started", wall=self.started_wall, folder=str(self.recorder.folder))
        for target, name in ((self._recognize, "minutes-recognize"), (self._annotate, "minutes-annotate")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            if o.from_file:
                self.source.start(self.started_wall)
            else:
                self.source.start()
        except MinutesError:
            self._stopping = True
            self.recorder.close("failed")
            raise

    def finished_input(self) -> bool:
        """True once a file source has delivered everything and the recognizer has taken it."""
        done = getattr(self.source, "done", None)
        return done is not None and done.is_set() and self.backlog_seconds < self.streaming.chunk_seconds

    def switch_device(self, device: str | None) -> None:
        """Record from another input from now on (e.g. after the first one was unplugged)."""
        if hasattr(self.source, "switch"):
            self.source.switch(device)

    def stop(self, final_pass: bool | None = None, progress: ProgressCallback | None = None) -> Transcript:
        """Stop capturing, confirm what is pending, close the recording; returns the transcript.

        With the final pass, ``progress`` hears the file job's progress and
        :meth:`cancel_final_pass` (from any thread) ends it early: the live transcript is kept."""
        if self.source is not None:
            self.source.stop()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()
        wav = self.recorder.close("finished")
        transcript = self._transcript(wav)
        if final_pass if final_pass is not None else self.options.final_pass:
            self._emit("status", state="final_pass", message="Transcribing the whole recording at file quality.")
            try:
                transcript = self._final_pass(wav, transcript, progress)
            except Cancelled:
                self._emit(
                    "status", state="final_pass_cancelled", message="Final pass cancelled: the live transcript is kept."
                )
        from engine.export import write

        write(transcript, "json", self.recorder.folder / "transcript.json")
        self._emit("stopped", audio_end=transcript.audio.duration, folder=str(self.recorder.folder))
        return transcript

    def cancel_final_pass(self) -> None:
        """End the final pass that :meth:`stop` is running (or will run); the live transcript is kept."""
        self._cancel_final.set()

    @staticmethod
    def recover(
        folder: str | Path,
        engine: Recognizer,
        options: TranscribeOptions | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        """An interrupted session: make its recording whole again and transcribe it with the file engine.

        ``cancel`` stops the transcription with ``Cancelled``; the session (its audio intact) is
        then offered for recovery again."""
        from engine.audio.recorder import recover, set_state
        from engine.export import write

        wav = recover(Path(folder))
        try:
            transcript = engine.transcribe(wav, options, progress, cancel)
        except (Cancelled, KeyboardInterrupt):
            set_state(Path(folder), "recording")  # still unfinished: unfinished_sessions() lists it
            raise
        write(transcript, "json", Path(folder) / "transcript.json")
        return transcript

    # -- audio in (source thread) --------------------------------------------------------------
    def _on_audio(self, block) -> None:
        try:
            self.recorder.write(block)
        except MinutesError as e:
            if not self._recording_error:
                self._recording_error = True
                self._emit("status", state="recording_error", message=str(e))
        with self._cond:
            self._inbox.append(block)
            self._inbox_samples += block.size
            self._cond.notify()
        self._level_due -= block.size
        if self._level_due <= 0:
            self._level_due = int(self.options.level_interval * 16000)
            level, peak = float(getattr(self.source, "level", 0.0)), float(getattr(self.source, "peak", 0.0))
            db = 20 * math.log10(max(level, 1e-5))
            self._emit(
                "level", audio_end=self.recorder.seconds, rms=round(level, 5), peak=round(peak, 4), dbfs=round(db, 1)
            )

    def _on_status(self, state: str, message: str) -> None:
        self._emit("status", audio_end=self.recorder.seconds if self.recorder else 0.0, state=state, message=message)

    # -- recognition (its own thread) ----------------------------------------------------------
    def _recognize(self) -> None:
        chunk = int(self.streaming.chunk_seconds * 16000)
        while True:
            with self._cond:
                while not self._stopping and self._inbox_samples < chunk:
                    self._cond.wait(0.1)
                blocks, self._inbox = self._inbox, []
                n, self._inbox_samples = self._inbox_samples, 0
                last = self._stopping
            if n:
                self._pace(n / 16000)
                self._handle(self.recognizer.feed(np.concatenate(blocks)))
            if last:
                break
        self._handle(self.recognizer.finish())
        self._post.put(None)

    def _pace(self, seconds: float) -> None:
        if seconds > 2.0 and not self._catching_up:
            self._catching_up = True
            self._emit("status", state="catching_up", message=f"Recognition is {seconds:.1f} s behind: catching up.")
        elif seconds < 1.0 and self._catching_up:
            self._catching_up = False
            self._emit("status", state="live", message="Recognition has caught up.")

    def _handle(self, events) -> None:
        from engine.asr.streaming import SegmentEvent

        for e in events:
            if isinstance(e, SegmentEvent):
                with self._lock:
                    index = len(self.segments)
                    self.segments.append(e.segment)
                s = e.segment
                self._emit("segment", s.start, s.end, s.text, segment=index, speaker=None)
                self._post.put(index)
                continue
            key = (e.kind, e.segment, e.text)
            if e.kind == "partial" and key == self._last_partial:
                continue
            self._last_partial = key if e.kind == "partial" else None
            words = [[w.start, w.end, w.word] for w in e.words]
            self._emit(e.kind, e.audio_start, e.audio_end, e.text, segment=e.segment, words=words)

    # -- speakers and chapters (their own thread) ----------------------------------------------
    def _default_tracker(self):
        if not self.options.speakers:
            return None
        try:
            from engine.speakers.live import LiveSpeakerTracker

            return LiveSpeakerTracker(encoder=self.engine.speaker_encoder(1))
        except (ImportError, MinutesError) as e:
            log.warning("Live speaker labels are off: %s", e)
            return None

    def _annotate(self) -> None:
        relabelled_at = 0.0
        # The first labels come from the quick online guess; re-cluster soon (after 15 s, 30 s, ...)
        # while the meeting is young and re-clustering is cheap, then every relabel_seconds.
        relabel_every = self.options.relabel_seconds / 4
        charted_at = 0.0
        pending: list[Segment] = []
        while True:
            index = self._post.get()
            final = index is None
            if not final:
                seg = self.segments[index]
                pending.append(seg)
                if self.tracker is not None:
                    label = self.tracker.add(self.recorder.read(seg.start, seg.end), seg.start, seg.end)
                    if label is not None:
                        seg.speaker = label
                        self._emit("speaker", seg.start, seg.end, segment=index, speaker=label)
            end = self.segments[-1].end if self.segments else 0.0
            if self.tracker is not None and (final or end - relabelled_at >= relabel_every):
                relabelled_at = end
                took = time.perf_counter()
                with _one_blas_thread():  # leave the other core(s) to recognition
                    self._relabel()
                # Re-clustering grows with the meeting and shares the CPU with recognition: the slower
                # it gets, the rarer it runs (at most ~1/40 of the time).
                took = time.perf_counter() - took
                relabel_every = max(min(self.options.relabel_seconds, 2 * relabel_every), 40 * took)
            due = pending and end - charted_at >= self.options.chapter_seconds
            if self.options.chapters and (due or (final and (pending or self.chapter_tracker is not None))):
                charted_at = end
                self._update_chapters(pending, final)
                pending = []
            if final:
                return

    def _relabel(self) -> None:
        from engine.live import label_segments

        with self._lock:
            self._turns = self.tracker.relabel()
            changed = label_segments(self.segments, self._turns)
        if changed:
            updates = [[i, self.segments[i].speaker] for i in changed]
            self._emit("speaker", updates=updates)

    def _update_chapters(self, new: list[Segment], final: bool) -> None:
        if self.chapter_tracker is None:
            try:
                from engine.chapters import ChapterTracker
            except ImportError:  # chapters not installed: the hook stays empty
                return
            self.chapter_tracker = ChapterTracker(self.recognizer.language, self.options.keywords)
        chapters = self.chapter_tracker.add(new) if new else self.chapter_tracker.chapters
        if final:
            chapters = self.chapter_tracker.finish(self.recorder.seconds)
        self.chapters = list(chapters)
        settled = len(chapters) if final else self.chapter_tracker.settled
        self._emit(
            "chapter",
            chapters=[{"start": c.start, "end": c.end, "title": c.title, "keywords": c.keywords} for c in chapters],
            settled=settled,
        )

    # -- the result ------------------------------------------------------------------------------
    def _transcript(self, wav: Path) -> Transcript:
        from engine.live import split_at_speaker_changes
        from engine.transcript import Speaker, SpeakerTurn, merge_turns

        segments = split_at_speaker_changes(self.segments, self._turns, self.recognizer.language)
        # the last re-clustering is the diarization: RTTM is written from it (labels as the segments')
        turns = merge_turns([SpeakerTurn(a, b, label) for a, b, label in self._turns if label])
        spoken = {s.speaker for s in segments if s.speaker} | {t.speaker for t in turns}
        labels = sorted(spoken, key=lambda x: (len(x), x))
        return Transcript(
            audio=AudioInfo(path=str(wav), duration=round(self.recorder.seconds, 3), sample_rate=16000),
            language=self.recognizer.language,
            model=ModelInfo(name=self.engine.model_name, precision=self.engine.precision, device=self.engine.device),
            segments=segments,
            speakers=[Speaker(id=s, name=f"Speaker {s[1:]}" if s[1:].isdigit() else s) for s in labels],
            chapters=list(self.chapters),
            turns=turns,
        )

    def _final_pass(self, wav: Path, live: Transcript, progress: ProgressCallback | None = None) -> Transcript:
        """The file engine on the whole recording; speaker labels and turns stay the ones shown live."""
        from engine.live import split_at_speaker_changes

        opts = TranscribeOptions(
            language=live.language or self.streaming.language,
            diarize=self.tracker is None,
            chapters=self.options.chapters,
            keywords=self.options.keywords,
            chinese=self.streaming.chinese,
        )
        final = self.engine.transcribe(wav, opts, progress, self._cancel_final)
        if self.tracker is not None:
            turns = self._turns or [(s.start, s.end, s.speaker) for s in live.segments if s.speaker]
            final.segments = split_at_speaker_changes(final.segments, turns, final.language)
            final.turns = list(live.turns)  # the live re-clustering, as the segments' labels are
            spoken = {s.speaker for s in final.segments} | {t.speaker for t in final.turns}
            final.speakers = [sp for sp in live.speakers if sp.id in spoken]
        return final


def _one_blas_thread():
    """numpy's BLAS on one thread while the block runs (a context manager; a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)
