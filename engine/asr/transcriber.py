"""Windows of audio in, timed segments with words out (the ASR stage of a file job)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.asr.alignment import WordAligner
from engine.asr.decoding import Decoder, DecodingOptions, WindowResult, is_silence
from engine.asr.features import SAMPLE_RATE, log_mel
from engine.asr.runtime import OnnxWhisper, concat_windows, select_windows
from engine.asr.tokenizer import Tokenizer
from engine.text import ends_sentence, join_words, no_space
from engine.transcript import Segment, Word


@dataclass
class WindowAudio:
    start: float  # absolute start of the window in the file (s)
    audio: np.ndarray  # 16 kHz mono float32, at most 30 s
    speech: tuple[tuple[float, float], ...] = ()  # VAD speech regions inside (absolute s)
    retries: int = 0  # how many times this stretch was already re-read (see WindowTranscriber.holes)
    # A re-read stretch: only words said within ``keep`` (absolute s) are taken; the audio has a
    # little context on each side. ``fallback``: the words the first reading had put there, used
    # again if the re-read finds none, so a re-read can never lose words.
    keep: tuple[float, float] | None = None
    fallback: list[Word] = field(default_factory=list)
    # the words read just before and after ``keep``: a re-read often repeats them at its edges
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    splice: _Splice | None = field(default=None, repr=False)  # the first reading it fills in

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


@dataclass
class _Splice:
    """A window whose holes are being read again: its words wait until every re-read is back,
    then the whole text is aligned on the window once more (alignment of a text that lacked a
    sentence had pushed the words around the gap into it)."""

    window: WindowAudio
    result: WindowResult
    words: list[Word]
    pending: int = 0
    found: list[Word] = field(default_factory=list)  # words the re-reads added


@dataclass
class BatchOutput:
    segments: list[Segment]
    results: list[WindowResult]
    remainders: list[WindowAudio]  # stretches of speech left without words: read them again


class WindowTranscriber:
    """Runs a batch of windows through encoder, decoder and word alignment."""

    def __init__(self, model: OnnxWhisper, tok: Tokenizer, cancel: Callable[[], None] | None = None):
        self.model = model
        self.tok = tok
        self.decoder = Decoder(model, tok, cancel)
        self.aligner = WordAligner(model, tok)
        self.encoder_batch = 8 if model.device == "cuda" else 1

    def transcribe_batch(
        self, windows: list[WindowAudio], opts: DecodingOptions, word_timestamps: bool = True
    ) -> BatchOutput:
        cross = self._encode(windows)
        results = self.decoder.decode(cross, opts)
        keep = [i for i, r in enumerate(results) if not self._is_silence(r, opts)]
        words: dict[int, list[Word]] = {}
        if word_timestamps and keep:
            words = self._align(
                [windows[i] for i in keep],
                [results[i] for i in keep],
                cross if len(keep) == len(windows) else select_windows(cross, keep),
                keep,
            )
        out = BatchOutput([], results, [])
        for i, (window, result) in enumerate(zip(windows, results)):
            found = words.get(i) if i in keep else []
            if window.keep is not None and found is not None:
                a, b = window.keep
                found = _trim_repeats([w for w in found if a <= (w.start + w.end) / 2 <= b], window)
            stamped = any(t >= self.tok.timestamp_begin for t in result.tokens)
            holes: list[WindowAudio] = []
            if found is not None and not stamped:
                holes = self.holes(window, found)
                dropped = {id(w) for h in holes for w in h.fallback}
                found = [w for w in found if id(w) not in dropped]
                out.remainders.extend(holes)
            if window.keep is not None:  # a re-read: its words go to the window it fills in
                splice = window.splice
                if splice is None:  # (a re-read made by hand, e.g. in tests)
                    out.segments.extend(self._segments_from_words(window, result, found or window.fallback, True))
                    continue
                splice.pending += len(holes) - 1
                for h in holes:
                    h.splice = splice
                splice.found.extend(found if found else [])
                if not found:  # the re-read found nothing: the first reading's words stay
                    splice.words.extend(window.fallback)
                if splice.pending == 0:
                    out.segments.extend(self._finish_splice(splice, opts))
            elif holes and found is not None:
                splice = _Splice(window, result, list(found), pending=len(holes))
                for h in holes:
                    h.splice = splice
            elif i in keep:
                out.segments.extend(self._segments(window, result, found))
        return out

    def _finish_splice(self, splice: _Splice, opts: DecodingOptions) -> list[Segment]:
        """Every re-read of a window is back: its words, with the re-reads' in the holes, aligned
        on the whole window again, then cut into segments."""
        window, result = splice.window, splice.result
        words = sorted(splice.words + splice.found, key=lambda w: (w.start, w.end))
        if splice.found and words:
            words = self._realign(window, words, result.language or opts.language or "en")
        return self._segments_from_words(window, result, words, fallback=True)

    def _realign(self, window: WindowAudio, words: list[Word], language: str) -> list[Word]:
        """Word times for ``words``' text over the whole window (DTW on the alignment heads)."""
        tok = self.tok
        text = "".join(w.word for w in words)
        tokens = tok.encode(text if text.startswith(" ") or no_space(language) else " " + text)
        limit = self.model.n_text_ctx - 8
        if not tokens or len(tokens) > limit:
            return words  # too long to align in one pass: keep the times the readings gave
        cross = self._encode([window])
        aligned = self.aligner.align(cross, [tokens], [[1.0] * len(tokens)], [len(window.audio)], [language])[0]
        if [_key(a.word) for a in aligned] != [_key(w.word) for w in words]:
            return words  # the text split into other words: keep the readings' times
        out = [
            Word(start=window.start + a.start, end=window.start + a.end, word=w.word, probability=w.probability)
            for a, w in zip(aligned, words)
        ]
        return fit_words_to_speech(out, window.speech)

    # Whisper sometimes skips speech: it ends a window early (an end-of-text after a pause), or
    # jumps over an utterance after an overlap or a change of speaker, and word alignment then
    # spreads a few words over the skipped stretch. With no sequential seek to catch it, every
    # stretch of VAD speech that words do not cover is read again on its own.
    HOLE_SPEECH_SECONDS = 0.6  # uncovered speech that makes a hole
    WORD_REACH = 0.2  # seconds around a word that count as covered by it
    STRAY_WORDS = 3  # at most this many words between two holes, in ...
    STRAY_SECONDS = 1.5  # ... at most this long, are misplaced: the holes merge and are read again
    CONTEXT_SECONDS = 1.0  # audio read after a re-read stretch that ends inside speech
    PAUSE_CONTEXT = 0.3  # silence kept before (after) the speech of a re-read stretch
    MAX_RETRIES = 2
    EDGE_WORDS = 3  # a re-read's first (last) words that repeat this many words before (after) it are dropped

    def holes(self, window: WindowAudio, words: list[Word]) -> list[WindowAudio]:
        """Stretches of ``window`` with speech but no words, as windows to decode again.

        Each gap between words (and before the first, after the last) holding at least
        ``HOLE_SPEECH_SECONDS`` of VAD speech is a hole; holes separated by only a few stray
        words merge, and those words go to the re-read window's ``fallback``.
        """
        if not window.speech or window.retries >= self.MAX_RETRIES:
            return []
        lo, hi = window.keep if window.keep is not None else (window.start, window.start + window.duration)
        speech = [(max(s, lo), min(e, hi)) for s, e in window.speech if e > lo and s < hi]
        if not words:
            return self._split_unread(window, speech, lo, hi)
        reach = self.WORD_REACH
        edges = [lo, *(t for w in words for t in (w.start, w.end)), hi]
        found: list[list[int]] = []  # [first word after the hole's start, first word after its end]
        for g in range(len(words) + 1):  # gap g lies before words[g]
            a = edges[2 * g] + (reach if g > 0 else 0.0)
            b = edges[2 * g + 1] - (reach if g < len(words) else 0.0)
            if _speech_between(speech, a, b) >= self.HOLE_SPEECH_SECONDS:
                if found and g - found[-1][1] <= self.STRAY_WORDS and self._stray(words[found[-1][1] : g]):
                    found[-1][1] = g
                else:
                    found.append([g, g])
        out = []
        for g0, g1 in found:
            a = words[g0 - 1].end if g0 > 0 else lo
            b = words[g1].start if g1 < len(words) else hi
            piece = self._piece(window, a, b, words[g0:g1])
            if piece is not None:
                piece.before = tuple(_key(w.word) for w in words[max(0, g0 - self.EDGE_WORDS) : g0])
                piece.after = tuple(_key(w.word) for w in words[g1 : g1 + self.EDGE_WORDS])
                out.append(piece)
        return out

    def _stray(self, words: list[Word]) -> bool:
        return not words or words[-1].end - words[0].start <= self.STRAY_SECONDS

    def _split_unread(self, window: WindowAudio, speech, lo: float, hi: float) -> list[WindowAudio]:
        """A window with speech and no words at all: read its halves (split at the longest pause)."""
        if window.retries > 0 or sum(e - s for s, e in speech) < 2 * self.HOLE_SPEECH_SECONDS or len(speech) < 2:
            return []
        mid = (lo + hi) / 2
        k = max(range(1, len(speech)), key=lambda k: (speech[k][0] - speech[k - 1][1]) - abs(speech[k][0] - mid) / 10)
        cut = (speech[k - 1][1] + speech[k][0]) / 2
        return [p for p in (self._piece(window, lo, cut, []), self._piece(window, cut, hi, [])) if p is not None]

    def _piece(self, window: WindowAudio, a: float, b: float, fallback: list[Word]) -> WindowAudio | None:
        """The stretch ``a..b`` as a window of its own.

        It starts in the pause before its speech, or at ``a`` when speech runs on: never with the
        end of the word before, a cut-off word at the start makes Whisper skip the next sentence.
        It ends a little after ``b`` (Whisper reads a sentence better with its end), or in the
        pause after its speech."""
        if b - a < self.HOLE_SPEECH_SECONDS:
            return None
        speech = tuple((max(s, a), min(e, b)) for s, e in window.speech if e > a and s < b)
        lo, hi = a, b + self.CONTEXT_SECONDS
        if speech:
            lo = max(a, speech[0][0] - self.PAUSE_CONTEXT)
            if speech[-1][1] < b:
                hi = min(b, speech[-1][1] + self.PAUSE_CONTEXT)
        i = max(0, int(round((lo - window.start) * SAMPLE_RATE)))
        j = min(len(window.audio), int(round((hi - window.start) * SAMPLE_RATE)))
        if j - i < SAMPLE_RATE // 2:
            return None
        start = window.start + i / SAMPLE_RATE
        return WindowAudio(start, window.audio[i:j], speech, window.retries + 1, (a, b), list(fallback))

    def _encode(self, windows: list[WindowAudio]) -> list[np.ndarray]:
        """Encode windows a few at a time: the encoder's attention over 1500 positions needs
        ~150 MB per window, and on a CPU a bigger batch is no faster."""
        step = self.encoder_batch
        parts = []
        for i in range(0, len(windows), step):
            self.decoder.cancel()  # the job's cancel check and progress tick, as at every decoder step
            mel = np.stack([log_mel(w.audio, self.model.n_mels) for w in windows[i : i + step]])
            parts.append(self.model.encode(mel))
        return concat_windows(parts)

    def _is_silence(self, r: WindowResult, opts: DecodingOptions) -> bool:
        no_text = not any(t < self.tok.eot for t in r.tokens)  # nothing but timestamps
        return no_text or is_silence(r, opts)

    def _align(self, windows, results, cross, ids) -> dict[int, list[Word]]:
        eot = self.tok.eot
        texts = [[t for t in r.tokens if t < eot] for r in results]
        probs = [[float(np.exp(lp)) for t, lp in zip(r.tokens, r.token_logprobs) if t < eot] for r in results]
        languages = [r.language for r in results]
        aligned = self.aligner.align(cross, texts, probs, [len(w.audio) for w in windows], languages)
        out: dict[int, list[Word]] = {}
        for j, (w, found) in enumerate(zip(windows, aligned)):
            words = [
                Word(start=w.start + a.start, end=w.start + a.end, word=a.word, probability=a.probability)
                for a in found
            ]
            out[ids[j]] = fit_words_to_speech(words, w.speech)
        return out

    def _segments(self, window: WindowAudio, r: WindowResult, words: list[Word] | None) -> list[Segment]:
        """Split a window's tokens at timestamp pairs; times become absolute."""
        tok = self.tok
        if not any(t >= tok.timestamp_begin for t in r.tokens):
            return self._segments_from_words(window, r, words)
        ts0 = tok.timestamp_begin
        pieces: list[tuple[float, float, list[int]]] = []
        start: float | None = None
        current: list[int] = []
        last_time = 0.0
        for t in r.tokens:
            if t >= ts0:
                time = (t - ts0) * 0.02
                if start is None:
                    start = time
                elif current:
                    pieces.append((start, time, current))
                    current = []
                    start = None
                else:
                    start = time
                last_time = time
            elif t < tok.eot:
                if start is None:
                    start = last_time
                current.append(t)
        if current:
            pieces.append((start if start is not None else 0.0, window.duration, current))
        segments = []
        word_iter = list(words or [])
        wi = 0
        for s, e, ids in pieces:
            text = tok.decode(ids)
            if not text.strip():
                continue
            seg_words: list[Word] = []
            if words is not None:
                # words come in token order: take as many as this piece's text holds
                taken = ""
                target = text.strip()
                while wi < len(word_iter) and len(taken.strip()) < len(target):
                    seg_words.append(word_iter[wi])
                    taken += word_iter[wi].word
                    wi += 1
            start_abs = window.start + min(s, window.duration)
            end_abs = window.start + min(max(e, s), window.duration)
            if seg_words:
                start_abs = min(seg_words[0].start, end_abs)
                end_abs = max(seg_words[-1].end, start_abs)
            segments.append(
                Segment(
                    start=start_abs,
                    end=end_abs,
                    text=text.strip(),
                    words=seg_words,
                    avg_logprob=r.avg_logprob,
                    compression_ratio=r.compression_ratio,
                    no_speech_prob=r.no_speech_prob,
                    temperature=r.temperature,
                )
            )
        return segments

    # Segments when decoding ran without timestamp tokens: cut at sentence ends and pauses.
    MAX_SEGMENT_SECONDS = 15.0
    PAUSE_SECONDS = 1.0

    def _segments_from_words(
        self, window: WindowAudio, r: WindowResult, words: list[Word] | None, fallback: bool = False
    ) -> list[Segment]:
        """``fallback``: segments from ``words`` alone (a re-read stretch keeps only some words)."""
        text = self.tok.decode([t for t in r.tokens if t < self.tok.eot]).strip()
        if fallback and not words:
            return []
        if not text and not fallback:
            return []
        extra = dict(
            avg_logprob=r.avg_logprob,
            compression_ratio=r.compression_ratio,
            no_speech_prob=r.no_speech_prob,
            temperature=r.temperature,
        )
        if not words:
            return [Segment(start=window.start, end=window.start + window.duration, text=text, **extra)]
        groups: list[list[Word]] = [[]]
        for w in words:
            cur = groups[-1]
            if cur:
                pause = w.start - cur[-1].end
                long = w.end - cur[0].start > self.MAX_SEGMENT_SECONDS
                sentence = ends_sentence(cur[-1].word) and len(cur) >= 3
                if pause > self.PAUSE_SECONDS or long or sentence:
                    groups.append([])
            groups[-1].append(w)
        out = []
        for g in groups:
            seg_text = join_words((w.word for w in g), r.language)
            if seg_text:
                out.append(Segment(start=g[0].start, end=max(g[-1].end, g[0].start), text=seg_text, words=g, **extra))
        return out


def _key(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def _trim_repeats(words: list[Word], window: WindowAudio) -> list[Word]:
    """Drop the re-read's edge words that repeat two or more words the first reading has beside
    the stretch. A single word is kept: in conversation "yeah", "no" are often said twice."""
    keys = [_key(w.word) for w in words]
    head = 0
    for k in range(min(len(keys), len(window.before)), 1, -1):
        if keys[:k] == list(window.before[-k:]):
            head = k
            break
    tail = 0
    for k in range(min(len(keys) - head, len(window.after)), 1, -1):
        if keys[-k:] == list(window.after[:k]):
            tail = k
            break
    return words[head : len(words) - tail]


def _speech_between(speech, a: float, b: float) -> float:
    """Seconds of the regions ``speech`` inside ``a..b``."""
    return sum(max(0.0, min(e, b) - max(s, a)) for s, e in speech) if b > a else 0.0


def fit_words_to_speech(words: list[Word], speech: tuple[tuple[float, float], ...]) -> list[Word]:
    """Keep word times out of silence.

    The alignment path starts at the window's first frame, so a first word after a pause
    absorbs the silence before it ("Hello." lasting 7 s). A word that ends inside a VAD speech
    region started inside it too; without VAD regions, overlong words are cut to a plausible
    length, as Whisper's own word-timing code does.
    """
    if not words:
        return words
    durations = sorted(w.end - w.start for w in words if w.end > w.start)
    median = min(0.7, durations[len(durations) // 2]) if durations else 0.7
    longest = max(2 * median, 0.5)
    for i, w in enumerate(words):
        region = next(((s, e) for s, e in speech if s <= w.end + 0.02 and e >= w.start), None)
        if region is not None:
            w.start = max(w.start, region[0])
            w.end = min(w.end, region[1]) if w.end > region[1] + 0.3 else w.end
        if w.end - w.start > longest:
            after_pause = i == 0 or w.start - words[i - 1].end > 0.2 or region is not None
            if after_pause:
                w.start = max(w.start, w.end - longest)
        w.end = max(w.end, w.start)
    return words
