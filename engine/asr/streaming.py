"""Live recognition: audio pushed as it arrives -> partial and confirmed words.

Why this shape (LocalAgreement-2 over a VAD-gated window):
  * Only speech is decoded. A Silero VAD stream follows the audio; a window opens where
    speech starts and closes after ``pause_seconds`` of silence.
  * While a window is open, every ``chunk_seconds`` of new audio the whole window is decoded
    again (greedy). The words after the already confirmed ones are shown at once as the
    *partial*; the words on which two successive hypotheses agree are *confirmed* and never
    change again. Confirmed words of the window are forced as a decoder prefix, so each new
    hypothesis continues them instead of re-reading them.
  * When the window closes (a pause), one last pass confirms everything in it: the end of a
    sentence is confirmed within ~ the pause plus one decode.
  * Crosstalk keeps Whisper revising, and agreement may not come for seconds: a word that
    ended ``confirm_after_seconds`` ago is confirmed as the latest hypothesis has it.
  * Text confirmed before the window is the decoder prompt (style, names, continuity).
  * Long speech without pauses: the window drops audio up to a confirmed sentence end beyond
    ``trim_seconds``, and past ``max_window_seconds`` older words are confirmed by force, so
    the cost of one hypothesis (and memory) is bounded however long people talk.
  * It never falls behind for good: the caller hands over all audio that arrived while the
    last hypothesis was computed, so when compute is slower than real time the chunks get
    longer and partials rarer, and a pause lets it catch up (one decode per utterance).
  * The encoder reads the audio present plus ``encoder_pad_seconds`` of silence (at least
    ``encoder_seconds``) instead of a full 30 s window (see engine/asr/variable_length.py); a
    hypothesis that loops (a known failure of Whisper on short inputs) is redone on 30 s.

This module is the thin recognizer: VAD windows, audio and events. Which words are final is
the pure policy in engine/asr/local_agreement.py; each hypothesis is one greedy pass of the
file engine's decoder (engine/asr/decoding.py, the confirmed words as its ``prefix``) and
its word aligner (engine/asr/alignment.py).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np

from engine.asr.alignment import WordAligner
from engine.asr.chinese import to_script
from engine.asr.decoding import Decoder, DecodingOptions, WindowResult, is_repetitive, is_silence
from engine.asr.features import N_FRAMES, SAMPLE_RATE, log_mel
from engine.asr.local_agreement import LocalAgreement, StreamWord, tail_text
from engine.asr.runtime import OnnxWhisper
from engine.asr.tokenizer import Tokenizer
from engine.audio.vad import SileroVAD
from engine.text import SENTENCE_END, ends_sentence, join_words
from engine.transcript import Segment, Word

log = logging.getLogger("minutes.live")

REPEAT_TOKENS = 4  # a decoded run of this many tokens seen before in the window is a loop


@dataclass(frozen=True)
class StreamingOptions:
    language: str | None = None  # None: detected on the first utterance, then kept
    task: str = "transcribe"
    chunk_seconds: float = 0.3  # new audio before the next hypothesis (a floor: more when compute lags)
    min_speech_seconds: float = 0.3  # no hypothesis on less audio than this
    pause_seconds: float = 0.4  # silence that ends an utterance (its words are confirmed at once)
    lookahead_seconds: float = 0.5  # a word is confirmed by agreement only once this much audio follows it
    # In crosstalk Whisper keeps revising a word, so agreement never comes: a word that ended this
    # long ago is confirmed as the latest hypothesis reads it (0: only agreement and pauses confirm).
    confirm_after_seconds: float = 1.6
    max_gap_seconds: float = 1.5  # a longer silence starts a new window (shorter ones stay in for context)
    encoder_seconds: float = 10.0  # the encoder reads at least this much audio+silence (30: no trimming)
    encoder_pad_seconds: float = 2.0  # silence after the audio in the encoder input
    trim_seconds: float = 8.0  # windows longer than this drop audio up to a confirmed sentence end
    max_window_seconds: float = 20.0  # beyond this, older words are confirmed by force
    segment_seconds: float = 15.0  # a confirmed segment is closed at a sentence end after 3 s, always after this
    prompt_chars: int = 200  # confirmed text given as prompt
    initial_prompt: str | None = None
    chinese: str = "simplified"
    max_tokens_per_second: float = 8.0  # more tokens than this per second of audio is a decoding loop


@dataclass
class TextEvent:
    """Words shown (partial) or fixed for good (confirmed), in the open segment ``segment``."""

    kind: str  # "partial" | "confirmed"
    words: list[Word]
    audio_start: float
    audio_end: float
    segment: int
    language: str | None = None
    text: str = ""


@dataclass
class SegmentEvent:
    """A closed segment: its confirmed words will not change (speakers and chapters may)."""

    index: int
    segment: Segment


@dataclass
class _Hypothesis:
    words: list[StreamWord]
    ok: bool = True  # False: silence or a decoding loop (nothing to confirm)


class StreamingRecognizer:
    """Feed 16 kHz mono blocks with :meth:`feed`; call :meth:`finish` at the end. Single-threaded."""

    def __init__(
        self,
        model: OnnxWhisper,
        tokenizer: Tokenizer,
        options: StreamingOptions | None = None,
        vad: SileroVAD | None = None,
    ):
        self.model = model
        self.tok = tokenizer
        self.opts = options or StreamingOptions()
        self.decoder = Decoder(model, tokenizer)
        self.aligner = WordAligner(model, tokenizer, self.opts.task)
        self.decoding = DecodingOptions(
            task=self.opts.task,
            beam_size=1,
            temperatures=(0.0,),
            without_timestamps=True,
            stop_on_repeat=REPEAT_TOKENS,
        )
        o = self.opts
        self.policy = LocalAgreement(
            o.lookahead_seconds, o.confirm_after_seconds, o.max_window_seconds, 5.0, o.trim_seconds
        )
        self.vad = vad or SileroVAD(min_silence_ms=int(self.opts.pause_seconds * 1000), num_threads=1)
        self.vad_stream = self.vad.stream(max_speech_s=0.0)  # long speech is cut here, not by the VAD
        self.language = self.opts.language
        self._language_votes: list[str] = []
        # audio kept: samples [audio_start, total)
        self.audio = np.zeros(0, dtype=np.float32)
        self.audio_start = 0
        self.total = 0
        self.window_start: int | None = None  # start (samples) of the open decoding window
        self.decoded_until = 0  # end (samples) of the audio the last hypothesis read
        self.speech_end = 0  # end (samples) of the last speech the VAD closed
        self.regions: list[tuple[int, int]] = []  # closed speech regions (samples) that may still be in the window
        self.committed: list[StreamWord] = []  # confirmed words inside the window (the forced prefix)
        self.tail: list[StreamWord] = []  # unconfirmed words of the last hypothesis
        self.context = self.opts.initial_prompt or ""  # confirmed text before the window (the prompt)
        self.segment_words: list[Word] = []
        self._stripped_stop = ""  # the full stop taken off the last confirmed word (shown when its line ends)
        self.segment_index = 0
        self.stats = {
            "hypotheses": 0,
            "compute_seconds": 0.0,
            "full_window_retries": 0,
            "forced": 0,
            "rereads": 0,
            "aged": 0,
        }

    # -- public ---------------------------------------------------------------------------
    @property
    def seconds(self) -> float:
        """Audio received so far (s)."""
        return self.total / SAMPLE_RATE

    @property
    def window_seconds(self) -> float:
        return 0.0 if self.window_start is None else (self.total - self.window_start) / SAMPLE_RATE

    def feed(self, audio: np.ndarray) -> list[TextEvent | SegmentEvent]:
        """Push new samples; returns the events they caused (possibly none)."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return []
        self.audio = np.concatenate([self.audio, audio])
        self.total += audio.size
        events: list[TextEvent | SegmentEvent] = []
        for s, e in self.vad_stream.push(audio):
            self._speech_starts(s)
            self.regions.append((int(s * SAMPLE_RATE), int(e * SAMPLE_RATE)))
            events += self._pause(e)
        if self.vad_stream.triggered:
            self._speech_starts(self.vad_stream.pending_start)
            if self._due():
                events += self._hypothesis()
        elif self.window_start is not None and self.total - self.speech_end > self.opts.max_gap_seconds * SAMPLE_RATE:
            self._close_window(self.speech_end)
        if self.window_start is None:
            self._drop_before(self.total - SAMPLE_RATE // 2)  # keep a little pre-roll
        return events

    def finish(self) -> list[TextEvent | SegmentEvent]:
        """End of the stream: confirm whatever is still open."""
        events: list[TextEvent | SegmentEvent] = []
        for s, e in self.vad_stream.finish():
            self._speech_starts(s)
            self.regions.append((int(s * SAMPLE_RATE), int(e * SAMPLE_RATE)))
            events += self._pause(e)
        if self.window_start is not None:
            if self.decoded_until < self.total and self.tail:
                events += self._pause(self.total / SAMPLE_RATE)
            self._close_window(self.total)
        events += self._close_segment()
        return events

    # -- windows --------------------------------------------------------------------------
    def _speech_starts(self, start_seconds: float) -> None:
        """Speech (re)starts at ``start_seconds``: open a window, or keep the open one across a short pause."""
        raw = int(round(start_seconds * SAMPLE_RATE))
        if self.window_start is not None and raw - self.speech_end > self.opts.max_gap_seconds * SAMPLE_RATE:
            self._close_window(self.speech_end)
        start = max(raw, self.audio_start)
        if self.window_start is None:
            self.window_start = start
            self.decoded_until = start
            self.committed, self.tail = [], []
        self.speech_end = max(self.speech_end, start)

    def _close_window(self, end: int) -> None:
        """Forget the window's audio; its confirmed text becomes the prompt."""
        log.debug("window closed at %.2f s", end / SAMPLE_RATE)
        self.context = tail_text(self.context + self._text_of(self.committed), self.opts.prompt_chars)
        self.committed, self.tail = [], []
        self.window_start = None
        self._drop_before(end - SAMPLE_RATE // 2)

    def _due(self) -> bool:
        assert self.window_start is not None
        enough = self.total - self.window_start >= self.opts.min_speech_seconds * SAMPLE_RATE
        return enough and self.total - self.decoded_until >= self.opts.chunk_seconds * SAMPLE_RATE

    def _drop_before(self, sample: int) -> None:
        cut = min(max(sample, self.audio_start), self.total) - self.audio_start
        if cut > 0:
            self.audio = self.audio[cut:].copy()
            self.audio_start += cut
        self.regions = [r for r in self.regions if r[1] > self.audio_start]

    def _speech_after(self, t: float, end: int) -> float:
        """Seconds of VAD speech between ``t`` (s) and sample ``end``."""
        a = int(t * SAMPLE_RATE)
        spans = list(self.regions)
        if self.vad_stream.triggered:
            spans.append((int(self.vad_stream.pending_start * SAMPLE_RATE), end))
        return sum(max(0, min(e, end) - max(s, a)) for s, e in spans) / SAMPLE_RATE

    def _read(self, end: int) -> _Hypothesis:
        """Decode the window up to ``end``. Whisper sometimes stops after the confirmed words although
        speech follows (it "thinks" the sentence is over): then the window restarts after them."""
        assert self.window_start is not None
        hyp = self._decode(self.window_start, end)
        self.decoded_until = end
        if hyp.ok and not hyp.words and self.committed:
            last = self.committed[-1].end
            if self._speech_after(last + 0.3, end) >= 1.0:
                self.stats["rereads"] += 1
                self._cut_window(int(last * SAMPLE_RATE), len(self.committed))
                hyp = self._decode(self.window_start, end)
        return hyp

    def _pause(self, e: float) -> list[TextEvent | SegmentEvent]:
        """A pause ended the speech at ``e`` (s): confirm everything heard up to there."""
        assert self.window_start is not None
        end = min(int(round(e * SAMPLE_RATE)), self.total)
        self.speech_end = max(self.speech_end, end)
        if self.decoded_until >= end:
            words = self.tail  # the last hypothesis already read all of it
        elif end - self.window_start >= 0.2 * SAMPLE_RATE:
            hyp = self._read(end)
            words = hyp.words if hyp.ok else []
        else:
            words = []
        self.tail = []
        events = self._confirm(words, end)
        events.append(self._partial(end))
        events += self._close_segment()
        if (end - self.window_start) / SAMPLE_RATE > self.opts.trim_seconds:
            self._close_window(end)  # a pause is the best place to start afresh
        return events

    def _hypothesis(self) -> list[TextEvent | SegmentEvent]:
        assert self.window_start is not None
        end = self.total
        hyp = self._read(end)
        events: list[TextEvent | SegmentEvent] = []
        if hyp.ok:
            n, aged = self.policy.confirmed(self.tail, hyp.words, end / SAMPLE_RATE)
            self.stats["aged"] += aged
            events += self._confirm(hyp.words[:n], end)
            self.tail = hyp.words[n:]
        events.append(self._partial(end))
        events += self._bound_window(end)
        return events

    def _open_ended(self, words: list[StreamWord]) -> list[StreamWord]:
        """Confirmed words never end in a full stop: forced as a prefix, a sentence that looks
        finished makes Whisper ignore the speech that follows. The stop comes back as its own
        token when the next words are decoded (and at the end of the stream)."""
        if not words:
            return words
        last = words[-1]
        toks = list(last.tokens)
        while len(toks) > 1 and self.tok.decode([toks[-1]]).strip() in (".", "。", "..."):
            toks.pop()
        if len(toks) == len(last.tokens):
            self._stripped_stop = ""
            return words
        self._stripped_stop = self.tok.decode(last.tokens[len(toks) :]).strip()
        trimmed = StreamWord(last.start, last.end, self.tok.decode(toks), last.probability, toks)
        return [*words[:-1], trimmed]

    def _bound_window(self, end: int) -> list[TextEvent | SegmentEvent]:
        """Keep the window short: drop audio before a confirmed sentence end, or force words."""
        assert self.window_start is not None
        events: list[TextEvent | SegmentEvent] = []
        length = (end - self.window_start) / SAMPLE_RATE
        n = self.policy.forced(self.tail, end / SAMPLE_RATE, length)
        if n:  # nothing agreed for a long time
            self.stats["forced"] += 1
            events += self._confirm(self.tail[:n], end)
            self.tail = self.tail[n:]
        if not self.committed:
            if length > self.opts.max_window_seconds:
                self._cut_window(int(end - 5.0 * SAMPLE_RATE), 0)  # no words at all: keep the last 5 s
            return events
        cut = self.policy.cut_point(self.committed, self.tail, length)
        if cut is not None:
            self._cut_window(int(round(cut[0] * SAMPLE_RATE)), cut[1])
        return events

    def _cut_window(self, sample: int, keep_from: int) -> None:
        """Start the window at ``sample``; committed words before index ``keep_from`` become prompt."""
        assert self.window_start is not None
        sample = min(max(sample, self.window_start), self.total)
        log.debug("window cut at %.2f s, %d words kept", sample / SAMPLE_RATE, len(self.committed[keep_from:]))
        self.context = tail_text(self.context + self._text_of(self.committed[:keep_from]), self.opts.prompt_chars)
        self.committed = self.committed[keep_from:]
        self.window_start = sample
        self._drop_before(sample)

    # -- events ---------------------------------------------------------------------------
    def _confirm(self, words: list[StreamWord], end: int) -> list[TextEvent | SegmentEvent]:
        words = self._open_ended(words)
        if not words:
            return []
        self.committed.extend(words)
        events: list[TextEvent | SegmentEvent] = []
        piece: list[Word] = []
        for sw in words:
            w = self._word(sw)
            if not self.segment_words and not piece and self.segment_index and _is_punctuation(w.word):
                continue  # the stop of the line before, decoded after the pause that ended it
            piece.append(w)
            self.segment_words.append(w)
            seg_len = w.end - self.segment_words[0].start
            sentence = ends_sentence(w.word) and seg_len >= 3.0
            if sentence or seg_len >= self.opts.segment_seconds:
                events.append(self._confirmed(piece))
                piece = []
                events += self._close_segment()
        if piece:
            events.append(self._confirmed(piece))
        return events

    def _confirmed(self, words: list[Word]) -> TextEvent:
        return TextEvent(
            "confirmed", words, words[0].start, words[-1].end, self.segment_index, self.language, self._join(words)
        )

    def _partial(self, end: int) -> TextEvent:
        out = [self._word(w) for w in self.tail]
        start = out[0].start if out else end / SAMPLE_RATE
        return TextEvent("partial", out, start, end / SAMPLE_RATE, self.segment_index, self.language, self._join(out))

    def _close_segment(self) -> list[TextEvent | SegmentEvent]:
        if not self.segment_words:
            return []
        words = self.segment_words
        if self._stripped_stop and not words[-1].word.strip().endswith(SENTENCE_END + (",",)):
            words[-1] = replace(words[-1], word=words[-1].word + self._stripped_stop)
        seg = Segment(start=words[0].start, end=max(words[-1].end, words[0].start), text=self._join(words), words=words)
        self.segment_words = []
        index = self.segment_index
        self.segment_index += 1
        return [SegmentEvent(index, seg)]

    def _word(self, w: StreamWord) -> Word:
        text = w.word
        if self.language in ("zh", "yue"):
            text = to_script(text, self.opts.chinese)
        return Word(start=round(w.start, 3), end=round(w.end, 3), word=text, probability=round(w.probability, 4))

    def _join(self, words: list[Word]) -> str:
        return join_words((w.word for w in words), self.language)

    def _text_of(self, words: list[StreamWord]) -> str:
        return self.tok.decode([t for w in words for t in w.tokens])

    # -- decoding -------------------------------------------------------------------------
    def _decode(self, start: int, end: int) -> _Hypothesis:
        t0 = time.perf_counter()
        audio = self.audio[start - self.audio_start : end - self.audio_start]
        seconds = audio.size / SAMPLE_RATE
        o = self.opts
        frames = min(N_FRAMES, 2 * math.ceil(max(o.encoder_seconds, seconds + o.encoder_pad_seconds) * 50))
        hyp = self._decode_frames(audio, start, frames)
        if not hyp.ok and frames < N_FRAMES and hyp.words:
            self.stats["full_window_retries"] += 1
            log.debug("retry on 30 s: %s", "".join(w.word for w in hyp.words)[:200])
            hyp = self._decode_frames(audio, start, N_FRAMES)
        self.stats["hypotheses"] += 1
        self.stats["compute_seconds"] += time.perf_counter() - t0
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%.2f-%.2f s (%d frames, %.0f ms) %s| %s%s",
                start / SAMPLE_RATE,
                end / SAMPLE_RATE,
                frames,
                1000 * (time.perf_counter() - t0),
                self._text_of(self.committed)[-40:],
                "".join(w.word for w in hyp.words),
                "" if hyp.ok else "  [rejected]",
            )
        return hyp

    def _decode_frames(self, audio: np.ndarray, start: int, frames: int) -> _Hypothesis:
        """One greedy reading of the window, continuing the confirmed words (the decoder's
        prefix) with the text before the window as prompt."""
        m = self.model
        cross = m.encode(log_mel(audio, m.n_mels, frames)[None])
        prefix = [t for w in self.committed for t in w.tokens]
        seconds = audio.size / SAMPLE_RATE
        done = self.committed[-1].end - start / SAMPLE_RATE if self.committed else 0.0
        budget = int(self.opts.max_tokens_per_second * max(0.0, seconds - done)) + 8
        opts = replace(
            self.decoding,
            language=self.language,
            initial_prompt=self.context or None,
            prefix=tuple(prefix),
            sample_len=budget,
        )
        res = self.decoder.decode(cross, opts)[0]
        self._vote_language(res.language, seconds)
        if is_silence(res, opts):
            return _Hypothesis([], ok=False)
        words = self._align(cross, prefix, res, start, audio.size) if res.tokens else []
        return _Hypothesis(words, ok=res.finished and not is_repetitive(res, opts))

    def _vote_language(self, detected: str, seconds: float) -> None:
        """Decide the language on real speech (two readings of 2 s or more), then keep it."""
        if self.language is not None or seconds < 2.0:
            return
        self._language_votes.append(detected)
        if len(self._language_votes) >= 2:
            self.language = max(set(self._language_votes), key=self._language_votes.count)

    def _align(self, cross, prefix: list[int], res: WindowResult, start: int, n_samples: int) -> list[StreamWord]:
        """Absolute word times for the new tokens; the confirmed words are the path's context."""
        probs = [float(np.exp(lp)) for lp in res.token_logprobs]
        texts = [prefix + res.tokens]
        aligned = self.aligner.align(cross, texts, [probs], [n_samples], [res.language], [len(prefix)])[0]
        offset = start / SAMPLE_RATE
        limit = n_samples / SAMPLE_RATE
        floor = self.committed[-1].end - offset if self.committed else 0.0
        out = []
        for a in aligned:
            s = min(max(a.start, floor), limit)
            e = min(max(a.end, s), limit)
            out.append(StreamWord(offset + s, offset + e, a.word, a.probability, a.tokens))
        return out


def _is_punctuation(text: str) -> bool:
    t = text.strip()
    return bool(t) and not text.startswith(" ") and not any(c.isalnum() for c in t)
