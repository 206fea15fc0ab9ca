"""The file job: audio -> VAD windows -> batched ASR -> speakers -> chapters -> Transcript.

The CLI and the GUI's workers drive it; they see progress events and a cancel flag, never its
insides. It runs on a loaded ``engine.recognizer.Recognizer``, so many files in a row (and a
live session beside them) load the model once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.asr.chinese import to_script
from engine.asr.decoding import DecodingOptions
from engine.asr.transcriber import WindowAudio, WindowTranscriber
from engine.errors import Cancelled, MinutesError, ModelError
from engine.transcript import AudioInfo, ModelInfo, Segment, Transcript

if TYPE_CHECKING:
    from engine.recognizer import Recognizer

log = logging.getLogger("minutes.file_job")


@dataclass(frozen=True)
class AsrOptions:
    """What is recognized and how: the words."""

    language: str | None = None  # None: detect from the first speech
    task: str = "transcribe"
    beam_size: int = 5
    batch_size: int = 8
    word_timestamps: bool = True
    vad: bool = True
    initial_prompt: str | None = None
    hotwords: str | None = None
    chinese: str = "simplified"  # script for Chinese output: simplified, traditional, asis
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    # Timestamp tokens let Whisper end a window early when its last words are cut; batched
    # windows are never re-read from that point, so segments come from word times instead.
    timestamp_tokens: bool = False

    def decoding(self) -> DecodingOptions:
        return DecodingOptions(
            language=self.language,
            task=self.task,
            beam_size=self.beam_size,
            initial_prompt=self.initial_prompt,
            hotwords=self.hotwords,
            temperatures=self.temperatures,
            without_timestamps=not self.timestamp_tokens,
        )

    def check(self) -> None:
        if self.batch_size < 1 or self.beam_size < 1:
            raise MinutesError("Batch size and beam size must be at least 1.")


@dataclass(frozen=True)
class SpeakerOptions:
    """Who spoke when (engine/speakers/)."""

    enabled: bool = True
    num_speakers: int | None = None  # fixed count; None: automatic within [min_speakers, max_speakers]
    min_speakers: int = 1
    max_speakers: int = 8
    recognize_voices: bool = True  # name speakers whose voice matches an enrolled profile

    def diarization(self):
        """The diarizer's own options (engine.speakers.diarize.DiarizationOptions), checked."""
        from engine.speakers.diarize import DiarizationOptions

        d = DiarizationOptions(self.num_speakers, self.min_speakers, self.max_speakers)
        d.check()
        return d


@dataclass(frozen=True)
class ChapterOptions:
    """Chapters (engine/chapters/): by topic shifts, or following an agenda."""

    enabled: bool = True
    keywords: str | tuple[str, ...] | None = None  # an agenda, "budget; hiring; roadmap": chapters follow it


@dataclass(frozen=True)
class TranscribeOptions:
    """Everything a file job is asked to do; the CLI, the window and a live session's final
    pass each build one, and nothing changes it afterwards."""

    asr: AsrOptions = AsrOptions()
    speakers: SpeakerOptions = SpeakerOptions()
    chapters: ChapterOptions = ChapterOptions()

    def check(self) -> None:
        """Bad values as the user's message, before any audio is read."""
        self.asr.check()
        if self.speakers.enabled:
            self.speakers.diarization()


@dataclass
class TranscribeProgress:
    """What a progress bar or the editor needs: where we are and the text found so far."""

    stage: str  # "model" | "transcribe" | "speakers" | "done"
    fraction: float  # 0..1 of the current stage
    message: str = ""
    new_segments: list[Segment] = field(default_factory=list)


ProgressCallback = Callable[[TranscribeProgress], None]


def transcribe_file(
    recognizer: Recognizer,
    path: str | Path,
    options: TranscribeOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Transcript:
    """Transcribe one file on a loaded recognizer: text, word times, speakers, chapters.

    ``progress`` hears each stage; ``cancel`` (set from any thread) stops the job within a
    decoding step or a block of audio, raising ``Cancelled``."""
    from engine.audio.windows import WindowSource

    opts = options or TranscribeOptions()
    opts.check()
    asr = opts.asr

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("Transcription cancelled.")

    source = WindowSource(path, recognizer.vad() if asr.vad else None)
    duration = source.duration
    ticker = _Ticker(progress, duration, check_cancel)
    worker = WindowTranscriber(recognizer.model, recognizer.tokenizer, ticker)
    decoding = asr.decoding()
    segments: list[Segment] = []
    language = asr.language
    if progress:
        progress(TranscribeProgress("transcribe", 0.0, f"Transcribing {Path(path).name}"))
    pending: list[WindowAudio] = []  # early-stopped stretches to read again
    reached = 0.0
    for batch in _batches(source, asr.batch_size, pending):
        check_cancel()
        ticker.batch(reached, max(reached, batch[-1].start + batch[-1].duration), batch)
        done = worker.transcribe_batch(batch, decoding, asr.word_timestamps)
        found = done.segments
        pending.extend(done.remainders)
        if language is None and done.results:
            language = done.results[0].language
            decoding = replace(decoding, language=language)  # one language per file
            log.info("Detected language: %s", language)
        if language in ("zh", "yue"):
            _convert_chinese(found, asr.chinese)
        segments.extend(found)
        if progress:
            # a batch of re-read stretches only may end earlier than the last one: never go back
            reached = max(reached, batch[-1].start + batch[-1].duration)
            ticker.reported = min(1.0, reached / duration) if duration else 1.0
            progress(TranscribeProgress("transcribe", ticker.reported, "", found))
    segments.sort(key=lambda s: s.start)
    transcript = Transcript(
        audio=AudioInfo(path=str(path), duration=round(duration, 3), sample_rate=16000),
        language=language,
        model=ModelInfo(name=recognizer.model_name, precision=recognizer.precision, device=recognizer.device),
        segments=segments,
    )
    if opts.speakers.enabled:  # also without words: the turns say who spoke (laughs, unclear speech)
        _add_speakers(recognizer, transcript, path, opts, progress, cancel)
        segments = transcript.segments
    chapters = []
    if opts.chapters.enabled:
        from engine.chapters import find_chapters

        chapters = find_chapters(segments, language, opts.chapters.keywords, duration)
    if progress:
        progress(TranscribeProgress("done", 1.0, "Done"))
    transcript.chapters = chapters
    return transcript


def _add_speakers(
    recognizer: Recognizer,
    transcript: Transcript,
    path: str | Path,
    opts: TranscribeOptions,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    """Diarize and label every word; without the speaker model, say so and keep the text."""
    from engine.audio.decode import stream_audio
    from engine.speakers.assign import apply_speakers

    d_opts = opts.speakers.diarization()
    try:
        diarizer = recognizer.diarizer()
    except ModelError as e:
        log.warning("Speakers skipped: %s", e)
        if progress:
            progress(TranscribeProgress("speakers", 1.0, f"Speakers skipped: {e}"))
        return
    report = (lambda f: progress(TranscribeProgress("speakers", f, "Finding speakers"))) if progress else None
    duration = transcript.audio.duration

    # GE2E: the first pass (voice features, speech regions) is the first 30% of the stage, the
    # embeddings the rest; the overlap-aware diarizer does everything while it reads
    share = 0.95 if getattr(diarizer, "one_pass", False) else 0.3

    def blocks():
        done = 0
        for block in stream_audio(path):
            yield block
            done += block.size
            if report and duration:
                report(share * min(1.0, done / 16000 / duration))

    if report:
        report(0.0)
    later = None if report is None or share > 0.9 else (lambda f: report(share + (0.95 - share) * f))
    result = diarizer(blocks(), d_opts, cancel, later)
    if report:
        report(1.0)
    names: dict[int, str] = {}
    if opts.speakers.recognize_voices and result.num_speakers:
        from engine.speakers.profiles import ProfileStore

        names = ProfileStore().identify(result.centroids)
    apply_speakers(transcript, result, names)


class _Ticker:
    """The decoder's per-step hook: checks cancel and, between the per-batch reports, moves the
    progress bar on (a batch of 8 windows takes seconds on a CPU) by the share of the batch's
    work done: each window's encoding and each decoding step, against what a batch usually
    needs (about 4 tokens per second of audio). Never past 95% of the batch, never backwards."""

    TOKENS_PER_SECOND = 4.0
    EVERY = 0.5  # seconds between reports

    def __init__(self, progress: ProgressCallback | None, duration: float, check_cancel: Callable[[], None]):
        self.progress = progress
        self.duration = duration
        self.check_cancel = check_cancel
        self.reported = 0.0
        self.last = time.monotonic()
        self.a = self.b = 0.0
        self.expected = 1.0
        self.ticks = 0

    def batch(self, start: float, end: float, windows: list[WindowAudio]) -> None:
        self.a, self.b, self.ticks = start, end, 0
        self.expected = len(windows) + 2 + self.TOKENS_PER_SECOND * max(w.duration for w in windows)

    def __call__(self) -> None:
        self.check_cancel()
        self.ticks += 1
        if self.progress is None or not self.duration or time.monotonic() - self.last < self.EVERY:
            return
        self.last = time.monotonic()
        done = self.a + (self.b - self.a) * min(0.95, self.ticks / self.expected)
        fraction = min(1.0, done / self.duration)
        if fraction > self.reported:
            self.reported = fraction
            self.progress(TranscribeProgress("transcribe", fraction))


def _batches(source, size: int, pending: list[WindowAudio]) -> Iterator[list[WindowAudio]]:
    """Batches of windows from the source; stretches queued in ``pending`` join the next batch."""
    batch: list[WindowAudio] = []
    for window, audio in source:
        while pending and len(batch) < size:
            batch.append(pending.pop(0))
        batch.append(WindowAudio(window.start, audio, window.speech))
        if len(batch) >= size:
            yield batch
            batch = []
    while batch or pending:
        while pending and len(batch) < size:
            batch.append(pending.pop(0))
        if batch:
            yield batch
            batch = []


def _convert_chinese(segments: list[Segment], script: str) -> None:
    for s in segments:
        s.text = to_script(s.text, script)
        for w in s.words:
            w.word = to_script(w.word, script)
