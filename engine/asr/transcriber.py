"""Windows of audio in, timed segments with words out (the ASR stage of a file job)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.asr.alignment import align_words
from engine.asr.decoding import Decoder, DecodingOptions, WindowResult
from engine.asr.features import SAMPLE_RATE, log_mel
from engine.asr.runtime import OnnxWhisper
from engine.asr.tokenizer import Tokenizer
from engine.transcript import Segment, Word

SAMPLES_PER_POSITION = 320  # 20 ms per encoder position


@dataclass
class WindowAudio:
    start: float  # absolute start of the window in the file (s)
    audio: np.ndarray  # 16 kHz mono float32, at most 30 s

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


class WindowTranscriber:
    """Runs a batch of windows through encoder, decoder and word alignment."""

    def __init__(self, model: OnnxWhisper, tok: Tokenizer, cancel: Callable[[], None] | None = None):
        self.model = model
        self.tok = tok
        self.decoder = Decoder(model, tok, cancel)

    def transcribe_batch(
        self, windows: list[WindowAudio], opts: DecodingOptions, word_timestamps: bool = True
    ) -> tuple[list[Segment], list[WindowResult]]:
        mel = np.stack([log_mel(w.audio, self.model.n_mels) for w in windows])
        cross_k, cross_v = self.model.encode(mel)
        results = self.decoder.decode(cross_k, cross_v, opts, [w.duration for w in windows])
        keep = [i for i, r in enumerate(results) if not self._is_silence(r, opts)]
        words: dict[int, list[Word]] = {}
        if word_timestamps and keep:
            words = self._align(
                [windows[i] for i in keep], [results[i] for i in keep], cross_k[:, keep], cross_v[:, keep], keep
            )
        segments: list[Segment] = []
        for i in keep:
            segments.extend(self._segments(windows[i], results[i], words.get(i)))
        return segments, results

    @staticmethod
    def _is_silence(r: WindowResult, opts: DecodingOptions) -> bool:
        if not any(t < 50257 for t in r.tokens):  # nothing but timestamps
            return True
        return (
            opts.no_speech_threshold is not None
            and r.no_speech_prob > opts.no_speech_threshold
            and (opts.log_prob_threshold is None or r.avg_logprob < opts.log_prob_threshold)
        )

    def _align(self, windows, results, cross_k, cross_v, ids) -> dict[int, list[Word]]:
        tok = self.tok
        sot = tok.sot_sequence(results[0].language)
        prefix = [*sot, tok.no_timestamps]
        texts = [[t for t in r.tokens if t < tok.eot] for r in results]
        longest = max(len(t) for t in texts)
        rows = np.full((len(texts), len(prefix) + longest + 1), tok.eot, dtype=np.int64)
        for i, t in enumerate(texts):
            rows[i, : len(prefix) + len(t)] = prefix + t
        self_k, self_v = self.model.empty_cache(len(texts))
        _, _, _, align = self.model.step(rows, self_k, self_v, cross_k, cross_v, np.arange(len(texts)))
        out: dict[int, list[Word]] = {}
        for j, (w, r, text) in enumerate(zip(windows, results, texts)):
            probs = [float(np.exp(lp)) for t, lp in zip(r.tokens, r.token_logprobs) if t < tok.eot]
            n_pos = min(self.model.n_audio_ctx, math.ceil(len(w.audio) / SAMPLES_PER_POSITION))
            aligned = align_words(tok, text, probs, align[j], len(prefix) - 1, n_pos, r.language)
            out[ids[j]] = [
                Word(start=w.start + a.start, end=w.start + a.end, word=a.word, probability=a.probability)
                for a in aligned
            ]
        return out

    def _segments(self, window: WindowAudio, r: WindowResult, words: list[Word] | None) -> list[Segment]:
        """Split a window's tokens at timestamp pairs; times become absolute."""
        tok = self.tok
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
