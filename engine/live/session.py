"""The live session: capture -> crash-safe recorder -> streaming recognizer -> speakers -> chapters.

Built on a loaded ``engine.recognizer.Recognizer``, whose decoder, tokenizer, voice detector and
speaker model it shares with file jobs; the pieces that are not recognition (events, the file
source, the event log, the options) are beside it in engine/live/; speaker labels from turns
are engine/speakers/turns.py.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from pathlib import Path

import numpy as np

from engine.errors import Cancelled, MinutesError
from engine.file_job import AsrOptions, ChapterOptions, ProgressCallback, SpeakerOptions, TranscribeOptions
from engine.live.events import (
    ChapterInfo,
    ChapterList,
    ConfirmedText,
    Level,
    LiveEvent,
    PartialText,
    SegmentDone,
    SessionState,
    SpeakerLabel,
    SpeakerLabels,
    Started,
    Status,
    Stopped,
    speaker_name,
)
from engine.live.file_source import FileSource
from engine.live.options import LiveOptions
from engine.recognizer import Recognizer
from engine.speakers.turns import label_segments, split_at_speaker_changes
from engine.transcript import AudioInfo, ModelInfo, Segment, Transcript

log = logging.getLogger("minutes.live_session")


class LiveSession:
    """A live meeting: capture -> crash-safe recorder -> streaming recognizer -> speakers -> chapters.

    Subscribers (plain callables, :meth:`subscribe`) receive :class:`engine.live.events.LiveEvent`s from
    the session's threads and must return quickly (a GUI posts them to its own thread). Audio is
    on disk before it is recognized, so a crash loses at most a second (engine/audio/recorder.py);
    recognition runs in its own thread on whatever audio has arrived, so slow compute means
    longer chunks, never a growing delay (engine/asr/streaming.py). Speaker labels and chapters
    run in a third thread, off the recognizer's path. :meth:`stop` returns the Transcript.
    """

    def __init__(self, engine: Recognizer, options=None, streaming=None, tracker=None, chapters=None):
        from engine.asr.streaming import StreamingOptions, StreamingRecognizer

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
        # pause/resume: _on_audio drops blocks while _paused (read and set under _audio_gate);
        # _want_paused is what pause()/resume() asked for, applied by one caller at a time
        self._paused = False
        self._want_paused = False
        self._audio_gate = threading.Lock()
        self._transition = threading.Lock()
        self._flush_due = False

    # -- subscribers ---------------------------------------------------------------------------
    def subscribe(self, callback) -> None:
        self._subs.append(callback)

    def _emit(self, payload, audio_start=None, audio_end=None, text=None, wall=None) -> None:
        event = LiveEvent.of(payload, wall, audio_start, audio_end, text)
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
        """Seconds recorded: the session's elapsed time, which does not grow while paused."""
        return self.recorder.seconds if self.recorder else 0.0

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        """Open the input and the session folder; raises MinutesError (DeviceError, AudioError) if it cannot."""
        from engine.audio.capture import Capture
        from engine.audio.recorder import Recorder

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
        self.started_wall = self.recorder.meta["started"]  # audio time 0, as session.json has it
        self._emit(Started(str(self.recorder.folder)), wall=self.started_wall)
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

    def pause(self) -> None:
        """Stop recording and recognizing until :meth:`resume`; idempotent, from any thread.

        Words still open are confirmed (a ``segment`` follows), a ``status`` event says
        ``paused``, and session.json notes the pause. The recording simply lacks the paused
        time (transcript times are the recording's: ``engine.live.wall_time.audio_to_wall`` maps them back);
        a file source waits where it is. Stopping while paused is fine."""
        self._want(True)

    def resume(self) -> None:
        """Record again after :meth:`pause` (``status`` ``recording``); idempotent, from any thread."""
        self._want(False)

    def _want(self, paused: bool) -> None:
        self._want_paused = paused
        # One caller applies the change at a time; a caller finding another at work returns
        # (that one applies what was asked last), so a pause from a subscriber never deadlocks.
        while self._transition.acquire(blocking=False):
            try:
                target = self._want_paused
                if target == self._paused or self._stopping or self.recorder is None:
                    return
                self._apply_pause() if target else self._apply_resume()
            finally:
                self._transition.release()

    def _apply_pause(self) -> None:
        hold = getattr(self.source, "pause", None)
        if hold is not None:
            hold()  # a file keeps its place (and waits for the block it is delivering)
        with self._audio_gate:  # after the block being recorded, if any: the mark is exact
            self._paused = True
            self.recorder.pause()
            seconds = self.recorder.seconds
        with self._cond:
            self._flush_due = True  # the recognizer confirms the open words
            self._cond.notify_all()
        self._status(SessionState.PAUSED, "Paused: nothing is recorded until you resume.", seconds)

    def _apply_resume(self) -> None:
        with self._audio_gate:
            self._paused = False
            self.recorder.resume()
            seconds = self.recorder.seconds
        go_on = getattr(self.source, "resume", None)
        if go_on is not None:
            go_on()
        self._status(SessionState.RECORDING, "Recording again.", seconds)

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
            self._status(SessionState.FINAL_PASS, "Transcribing the whole recording at file quality.")
            try:
                transcript = self._final_pass(wav, transcript, progress)
            except Cancelled:
                self._status(SessionState.FINAL_PASS_CANCELLED, "Final pass cancelled: the live transcript is kept.")
        from engine.export import write

        write(transcript, "json", self.recorder.folder / "transcript.json")
        self._emit(Stopped(str(self.recorder.folder)), audio_end=transcript.audio.duration)
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
        error = None
        with self._audio_gate:
            if self._paused:
                return  # neither recorded nor recognized
            try:
                self.recorder.write(block)
            except MinutesError as e:
                error = e
            with self._cond:
                self._inbox.append(block)
                self._inbox_samples += block.size
                self._cond.notify()
            seconds = self.recorder.seconds
        if error is not None and not self._recording_error:
            self._recording_error = True
            self._status(SessionState.RECORDING_ERROR, str(error))
        self._level_due -= block.size
        if self._level_due <= 0:
            self._level_due = int(self.options.level_interval * 16000)
            level, peak = float(getattr(self.source, "level", 0.0)), float(getattr(self.source, "peak", 0.0))
            # a source mixing several inputs gives each one's level in dBFS: {"microphone": -23.4, "system": -31.0}
            per_source = getattr(self.source, "levels", None)
            per_source = per_source() if callable(per_source) else None
            sources = {k: round(float(v), 1) for k, v in per_source.items()} if isinstance(per_source, dict) else None
            self._emit(Level(_dbfs(level), round(level, 5), round(peak, 4), sources), audio_end=seconds)

    def _on_status(self, state: str, message: str) -> None:
        self._status(SessionState.of(state), message, self.recorder.seconds if self.recorder else 0.0)

    def _status(self, state, message: str, audio_end: float | None = None) -> None:
        self._emit(Status(state, message), audio_end=audio_end)

    # -- recognition (its own thread) ----------------------------------------------------------
    def _recognize(self) -> None:
        chunk = int(self.streaming.chunk_seconds * 16000)
        while True:
            with self._cond:
                while not self._stopping and not self._flush_due and self._inbox_samples < chunk:
                    self._cond.wait(0.1)
                blocks, self._inbox = self._inbox, []
                n, self._inbox_samples = self._inbox_samples, 0
                last = self._stopping
                flush, self._flush_due = self._flush_due and not last, False
            if n:
                self._pace(n / 16000)
                self._handle(self.recognizer.feed(np.concatenate(blocks)))
            if last:
                break
            if flush:  # paused: everything before the pause is in; confirm the open words
                self._handle(self._confirm_open_window())
        self._handle(self.recognizer.finish())
        self._post.put(None)

    def _confirm_open_window(self) -> list:
        """Confirm what the recognizer holds as if the stream ended (a pause), and go on after it.

        ``finish()`` also ends the voice detector's stream, padding its partial last frame with
        zeros; those samples are given back, so after the pause its frames keep to the audio's
        clock (else each pause would shift its times by up to a frame, 32 ms)."""
        vad = getattr(self.recognizer, "vad_stream", None)
        held = None
        if vad is not None and all(hasattr(vad, a) for a in ("leftover", "frames_done", "context")):
            held = (vad.leftover.copy(), vad.frames_done, vad.context.copy())
        events = self.recognizer.finish()
        if held is not None and held[0].size:
            vad.leftover, vad.frames_done, vad.context = held
        return events

    def _pace(self, seconds: float) -> None:
        if seconds > 2.0 and not self._catching_up:
            self._catching_up = True
            self._status(SessionState.CATCHING_UP, f"Recognition is {seconds:.1f} s behind: catching up.")
        elif seconds < 1.0 and self._catching_up:
            self._catching_up = False
            self._status(SessionState.LIVE, "Recognition has caught up.")

    def _handle(self, events) -> None:
        from engine.asr.streaming import SegmentEvent

        for e in events:
            if isinstance(e, SegmentEvent):
                with self._lock:
                    index = len(self.segments)
                    self.segments.append(e.segment)
                s = e.segment
                self._emit(SegmentDone(index, s.start, s.end, s.text, None), s.start, s.end, s.text)
                self._post.put(index)
                continue
            key = (e.kind, e.segment, e.text)
            if e.kind == "partial" and key == self._last_partial:
                continue
            self._last_partial = key if e.kind == "partial" else None
            words = tuple((w.start, w.end, w.word) for w in e.words)
            kind = PartialText if e.kind == "partial" else ConfirmedText
            self._emit(kind(e.segment, words), e.audio_start, e.audio_end, e.text)

    # -- speakers and chapters (their own thread) ----------------------------------------------
    def _default_tracker(self):
        """The overlap-aware tracker (the file job's speakers, made as the meeting goes) on one
        thread, so recognition keeps the other cores; GE2E's per-utterance tracker when the
        segmentation/CAM++ models are missing or damaged, or $MINUTES_SPEAKERS=ge2e."""
        if not self.options.speakers:
            return None
        import os

        if os.environ.get("MINUTES_SPEAKERS", "").lower() != "ge2e":
            try:
                from engine.speakers.live_overlap import OverlapSpeakerTracker
                from engine.speakers.overlap_diarize import OverlapDiarizer

                diarizer = OverlapDiarizer(threads=1, vad=self.engine.vad())
                return OverlapSpeakerTracker(diarizer, self._read_recording)
            except (ImportError, MinutesError) as e:
                log.warning("%s Live speakers use the GE2E model instead.", e)
        try:
            from engine.speakers.live import LiveSpeakerTracker

            return LiveSpeakerTracker(encoder=self.engine.speaker_encoder(1))
        except (ImportError, MinutesError) as e:
            log.warning("Live speaker labels are off: %s", e)
            return None

    def _read_recording(self, start: float, end: float):
        """The recording's samples [start, end) (the overlap tracker reads between utterances too)."""
        return self.recorder.read(start, end)

    def _annotate(self) -> None:
        relabelled_at = 0.0
        # The first labels come from the quick online guess; re-cluster soon (after 15 s, 30 s, ...)
        # while the meeting is young and re-clustering is cheap, then every relabel_seconds.
        relabel_every = self.options.relabel_seconds / 4
        charted_at = 0.0
        pending: list[Segment] = []
        while True:
            try:
                index = self._post.get(timeout=0.25)
            except queue.Empty:
                # between lines, the overlap tracker's window pass keeps up with the recording, so a
                # finished line is labelled from windows already made
                advance = getattr(self.tracker, "advance", None)
                if advance is not None and self.recorder is not None:
                    advance(self.recorder.seconds)
                continue
            final = index is None
            if not final:
                seg = self.segments[index]
                pending.append(seg)
                if self.tracker is not None:
                    label = self.tracker.add(self.recorder.read(seg.start, seg.end), seg.start, seg.end)
                    if label is not None:
                        seg.speaker = label
                        self._emit(_labels([(index, label)]), seg.start, seg.end)
            end = self.segments[-1].end if self.segments else 0.0
            if self.tracker is not None and (final or end - relabelled_at >= relabel_every):
                relabelled_at = end
                took = time.perf_counter()
                self._relabel(final)
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

    def _relabel(self, final: bool = False) -> None:
        # The clustering runs outside the lock (only this thread uses the tracker), so the
        # recognizer is never held up adding a line meanwhile.
        with _one_blas_thread(self.engine.device):
            turns = self.tracker.relabel(final=final)
        with self._lock:
            self._turns = turns
            changed = label_segments(self.segments, self._turns)
            updates = [(i, self.segments[i].speaker) for i in changed]
        if updates:
            self._emit(_labels(updates))

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
        infos = tuple(ChapterInfo(c.start, c.end, c.title, tuple(c.keywords)) for c in chapters)
        self._emit(ChapterList(infos, settled))

    # -- the result ------------------------------------------------------------------------------
    def _transcript(self, wav: Path) -> Transcript:
        from engine.transcript import Speaker, SpeakerTurn, merge_turns

        segments = split_at_speaker_changes(self.segments, self._turns, self.recognizer.language)
        # the last re-clustering is the diarization: RTTM is written from it (labels as the segments')
        # with the overlap tracker, a second voice where two talk too (as a file job's turns)
        second = getattr(self.tracker, "overlaps", [])  # GE2E tracker: none
        turns = merge_turns([SpeakerTurn(a, b, label) for a, b, label in self._turns + second if label])
        spoken = {s.speaker for s in segments if s.speaker} | {t.speaker for t in turns}
        labels = sorted(spoken, key=lambda x: (len(x), x))
        return Transcript(
            audio=AudioInfo(path=str(wav), duration=round(self.recorder.seconds, 3), sample_rate=16000),
            language=self.recognizer.language,
            model=ModelInfo(name=self.engine.model_name, precision=self.engine.precision, device=self.engine.device),
            segments=segments,
            speakers=[Speaker(id=s, name=speaker_name(s)) for s in labels],
            chapters=list(self.chapters),
            turns=turns,
        )

    def _final_pass(self, wav: Path, live: Transcript, progress: ProgressCallback | None = None) -> Transcript:
        """The file engine on the whole recording; speaker labels and turns stay the ones shown live."""

        opts = TranscribeOptions(
            asr=AsrOptions(language=live.language or self.streaming.language, chinese=self.streaming.chinese),
            speakers=SpeakerOptions(enabled=self.tracker is None),
            chapters=ChapterOptions(enabled=self.options.chapters, keywords=self.options.keywords),
        )
        final = self.engine.transcribe(wav, opts, progress, self._cancel_final)
        if self.tracker is not None:
            turns = self._turns or [(s.start, s.end, s.speaker) for s in live.segments if s.speaker]
            final.segments = split_at_speaker_changes(final.segments, turns, final.language)
            final.turns = list(live.turns)  # the live re-clustering, as the segments' labels are
            spoken = {s.speaker for s in final.segments} | {t.speaker for t in final.turns}
            final.speakers = [sp for sp in live.speakers if sp.id in spoken]
        return final


def _labels(pairs):
    return SpeakerLabels(tuple(SpeakerLabel(i, label, speaker_name(label)) for i, label in pairs))


def _dbfs(rms: float) -> float:
    return round(20 * math.log10(max(float(rms), 1e-5)), 1)


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit = None


@contextlib.contextmanager
def _one_blas_thread(device: str = "cpu"):
    """numpy's BLAS on one thread while the speaker clustering runs, leaving the other cores to
    recognition on the CPU (a no-op on a GPU, or without threadpoolctl).

    Only BLAS is limited (OpenMP pools, torch's included, are left alone), and only for the
    block. OpenBLAS's thread count is one setting for the whole process, so the limit is
    counted: taken by the first session to need it and restored by the last, never left
    behind when two sessions' re-clusterings overlap."""
    global _blas_users, _blas_limit
    if device != "cpu":
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with _blas_lock:
        if _blas_users == 0:
            _blas_limit = threadpool_limits(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None
