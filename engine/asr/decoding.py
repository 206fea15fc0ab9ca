"""Decoding: greedy, beam search and sampling over a batch of audio windows at once.

Files, live and training evaluation all decode here. All windows of a batch step together
through one decoder call per token, so the number of Python round trips is the number of
tokens in the longest window, not the sum. Small strategy pieces: a ``LogitFilter`` shapes
the distribution (suppression, timestamp rules); ``GreedySearch``, ``BeamSearch`` and
``Sampler`` choose tokens and return ``Candidate``s; ``Decoder.decode`` drives them with
Whisper's temperature fallback and quality rules (no-speech, compression, log-probability).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.asr.runtime import OnnxWhisper, n_windows, select_windows
from engine.asr.tokenizer import Tokenizer

NEG_INF = -np.inf


@dataclass
class DecodingOptions:
    language: str | None = None  # None: detect per batch
    task: str = "transcribe"
    beam_size: int = 5
    best_of: int = 5
    patience: float = 1.0
    length_penalty: float | None = None
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float | None = 2.4
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    initial_prompt: str | None = None
    hotwords: str | None = None
    suppress_blank: bool = True
    suppress_tokens: tuple[int, ...] | None = (-1,)  # -1: the model's list of non-speech symbols
    without_timestamps: bool = False
    max_initial_timestamp: float = 1.0
    sample_len: int | None = None  # most tokens to sample (None: half the text context)
    seed: int = 0
    # Tokens forced after the SOT sequence, continued rather than re-read (live: the confirmed words).
    prefix: tuple[int, ...] = ()
    # Greedy only: stop where the last this-many sampled tokens already occurred in the sequence
    # (they are dropped). Whisper starts over once it has read a short input; None: off.
    stop_on_repeat: int | None = None


@dataclass
class Candidate:
    """One search result for one window: the sampled tokens after the prefix, no EOT."""

    tokens: list[int]
    token_logprobs: list[float]
    sum_logprob: float  # the end-of-text token's included when it was sampled
    finished: bool = True  # False: ran out of length without an end-of-text

    def avg_logprob(self) -> float:
        return self.sum_logprob / (len(self.tokens) + 1)  # + EOT


@dataclass
class WindowResult:
    tokens: list[int]  # sampled tokens, timestamps included, no special tokens, no EOT
    token_logprobs: list[float]
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    temperature: float
    language: str
    language_probs: dict[str, float] = field(default_factory=dict)
    finished: bool = True  # False: the length limit cut it (a loop on short inputs)


def is_silence(res: WindowResult, opts: DecodingOptions) -> bool:
    """Whisper's no-speech rule: the model said "no speech" and its text is unsure."""
    return (
        opts.no_speech_threshold is not None
        and res.no_speech_prob > opts.no_speech_threshold
        and (opts.log_prob_threshold is None or res.avg_logprob < opts.log_prob_threshold)
    )


def is_repetitive(res: WindowResult, opts: DecodingOptions) -> bool:
    """The text repeats itself (compresses too well): a decoding loop."""
    limit = opts.compression_ratio_threshold
    return limit is not None and res.compression_ratio > limit


def compression_ratio(text: str) -> float:
    """High when the text repeats itself: the sign of a decoding loop."""
    data = text.encode("utf-8")
    if not data:
        return 0.0
    return len(data) / len(zlib.compress(data))


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    y = x - m
    return y - np.log(np.sum(np.exp(y), axis=-1, keepdims=True))


class TimestampRules:
    """Whisper's timestamp grammar: pairs, monotonic, a timestamp first, a forced timestamp
    when timestamps together are likelier than any text token."""

    def __init__(self, tok: Tokenizer, max_initial: int | None):
        self.tok = tok
        self.ts = tok.timestamp_begin
        self.max_initial = max_initial

    def apply(self, logits: np.ndarray, seqs: list[list[int]]) -> None:
        ts, eot = self.ts, self.tok.eot
        logits[:, self.tok.no_timestamps] = NEG_INF
        for r, seq in enumerate(seqs):
            n = len(seq)
            if n == 0:
                logits[r, :ts] = NEG_INF
                if self.max_initial is not None:
                    logits[r, ts + self.max_initial + 1 :] = NEG_INF
                continue
            last_ts = seq[-1] >= ts
            penult_ts = n < 2 or seq[-2] >= ts
            if last_ts:
                if penult_ts:
                    logits[r, ts:] = NEG_INF
                else:
                    logits[r, :eot] = NEG_INF
            stamps = [t for t in seq if t >= ts]
            if stamps:
                floor = stamps[-1] if (last_ts and not penult_ts) else stamps[-1] + 1
                logits[r, ts:floor] = NEG_INF

    def force(self, logprobs: np.ndarray) -> None:
        ts = self.ts
        stamp = np.logaddexp.reduce(logprobs[:, ts:], axis=-1)
        text_max = np.max(logprobs[:, :ts], axis=-1)
        rows = np.nonzero(stamp > text_max)[0]
        if len(rows):
            logprobs[rows, :ts] = NEG_INF


class LogitFilter:
    """Everything that shapes the next-token distribution, built once per decoding pass."""

    def __init__(self, suppress: np.ndarray, blank: list[int], rules: TimestampRules | None):
        self.suppress = suppress
        self.blank = blank  # suppressed at the first sampled position only
        self.rules = rules

    def __call__(self, logits: np.ndarray, seqs: list[list[int]]) -> np.ndarray:
        """Log-probabilities [R, V] with forbidden tokens at -inf."""
        logits = logits.copy()
        logits[:, self.suppress] = NEG_INF
        if self.blank:
            first = [r for r, s in enumerate(seqs) if not s]
            if first:
                logits[np.ix_(first, self.blank)] = NEG_INF
        if self.rules is not None:
            self.rules.apply(logits, seqs)
        lp = log_softmax(logits)
        if self.rules is not None:
            self.rules.force(lp)
        return lp


def rank(sum_logprob: float, length: int, penalty: float | None) -> float:
    """Whisper's ranking of finished sequences: mean log-probability, or a length penalty."""
    if penalty is None:
        return sum_logprob / length
    return sum_logprob / (((5 + length) / 6) ** penalty)


class Stepper:
    """The decoder's KV cache for one decoding pass: one call per token for every row."""

    def __init__(self, model: OnnxWhisper, cross: list, cache: list, cancel: Callable[[], None]):
        self.model = model
        self.cross = cross
        self.cache = cache
        self.cancel = cancel

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        """Next-token logits after ``tokens`` [R]; row r continues cache row ``reorder[r]``."""
        self.cancel()
        logits, _, self.cache = self.model.step(tokens[:, None], reorder, self.cache, self.cross)
        return logits


class SearchStrategy:
    """Chooses tokens from the first distribution on until end-of-text or ``max_len``.

    ``logits`` [W, V] is the distribution after the SOT sequence and the prefix; ``prefix`` are
    the forced tokens (the logit filter sees them as part of each sequence).
    """

    eot: int

    def search(
        self, stepper: Stepper, logits: np.ndarray, filt: LogitFilter, prefix: list[int], max_len: int
    ) -> list[Candidate]:
        raise NotImplementedError


class GreedySearch(SearchStrategy):
    """The likeliest token each step, one row per window (live, and beam size 1)."""

    def __init__(self, eot: int, stop_on_repeat: int | None = None):
        self.eot = eot
        self.repeat = stop_on_repeat

    def search(self, stepper, logits, filt, prefix, max_len):
        w = logits.shape[0]
        seqs = [list(prefix) for _ in range(w)]
        out = [Candidate([], [], 0.0, finished=False) for _ in range(w)]
        rows = np.arange(w)  # every window keeps its row: its beams share the window's cross-attention
        for _ in range(max_len):
            lp = filt(logits, seqs)
            nxt = np.argmax(lp, axis=-1)
            for i, c in enumerate(out):
                if c.finished:
                    continue
                t = int(nxt[i])
                c.sum_logprob += float(lp[i, t])
                if t == self.eot:
                    c.finished = True
                    continue
                c.tokens.append(t)
                c.token_logprobs.append(float(lp[i, t]))
                seqs[i].append(t)
                if self.repeat and repeats(seqs[i], len(c.tokens), self.repeat):
                    c.sum_logprob -= sum(c.token_logprobs[-self.repeat :])
                    del c.tokens[-self.repeat :], c.token_logprobs[-self.repeat :]
                    c.finished = True
            if all(c.finished for c in out):
                break
            last = np.array([s[-1] if (s and not c.finished) else self.eot for s, c in zip(seqs, out)], dtype=np.int64)
            logits = stepper.step(last, rows)
        return out


class BeamSearch(SearchStrategy):
    """Beam search with per-window finished lists (OpenAI-style ranking by mean log-prob)."""

    def __init__(self, eot: int, beam_size: int, patience: float = 1.0, length_penalty: float | None = None):
        self.eot = eot
        self.k = max(1, beam_size)
        self.need = max(1, round(self.k * patience))
        self.length_penalty = length_penalty

    def search(self, stepper, logits, filt, prefix, max_len):
        k, eot = self.k, self.eot
        w = logits.shape[0]
        # Rows r = window * k + beam. Start: one live beam per window (others -inf).
        seqs: list[list[int]] = [list(prefix) for _ in range(w * k)]
        lps: list[list[float]] = [[] for _ in range(w * k)]
        score = np.full(w * k, NEG_INF)
        score[::k] = 0.0
        cache_row = np.repeat(np.arange(w), k)  # which cache row each logical row reads
        logits = logits[cache_row]
        finished: list[list[tuple[float, list[int], list[float]]]] = [[] for _ in range(w)]
        done = np.zeros(w, dtype=bool)
        for _ in range(max_len):
            lp = filt(logits, seqs)
            cand = score[:, None] + lp  # [R, V]
            new_seqs, new_lps, new_score, src = [], [], np.full(w * k, NEG_INF), np.zeros(w * k, dtype=np.int64)
            # top k+1 per row, then top per window across its rows
            top = np.argpartition(-cand, k, axis=-1)[:, : k + 1]
            top_scores = np.take_along_axis(cand, top, axis=-1)
            for wi in range(w):
                rows = slice(wi * k, (wi + 1) * k)
                if done[wi]:
                    for j in range(wi * k, (wi + 1) * k):
                        new_seqs.append(seqs[j])
                        new_lps.append(lps[j])
                        src[j] = j
                    continue
                flat_scores = top_scores[rows].ravel()
                order = np.argsort(-flat_scores, kind="stable")
                chosen = 0
                for o in order:
                    s = flat_scores[o]
                    if not np.isfinite(s):
                        break
                    r = wi * k + o // (k + 1)
                    t = int(top[r, o % (k + 1)])
                    tlp = lps[r] + [float(lp[r, t])]
                    if t == eot:
                        if len(finished[wi]) < self.need:
                            finished[wi].append((float(s), seqs[r], tlp))
                        continue
                    j = wi * k + chosen
                    new_seqs.append(seqs[r] + [t])
                    new_lps.append(tlp)
                    new_score[j] = s
                    src[j] = r
                    chosen += 1
                    if chosen == k:
                        break
                for j in range(wi * k + chosen, (wi + 1) * k):  # fewer live candidates than beams
                    new_seqs.append(seqs[wi * k])
                    new_lps.append(lps[wi * k])
                    src[j] = wi * k
                if len(finished[wi]) >= self.need or chosen == 0:
                    done[wi] = True
            seqs, lps, score = new_seqs, new_lps, new_score
            if done.all():
                break
            last = np.array([s[-1] if s else eot for s in seqs], dtype=np.int64)
            logits = stepper.step(last, cache_row[src])
            cache_row = np.arange(w * k)
        n = len(prefix)
        out = []
        for wi in range(w):
            pool = [(s, seq, tlp, True) for s, seq, tlp in finished[wi]]
            if not pool:  # ran out of length: take the live beams
                pool = [
                    (float(score[j]), seqs[j], lps[j], False)
                    for j in range(wi * k, (wi + 1) * k)
                    if np.isfinite(score[j])
                ]
            s, seq, tlp, ended = max(pool, key=lambda p: rank(p[0], len(p[1]) - n + 1, self.length_penalty))
            out.append(Candidate(seq[n:], tlp[: len(seq) - n], s, ended))
        return out


class Sampler(SearchStrategy):
    """Temperature sampling, ``best_of`` candidates per window, best by mean log-prob."""

    def __init__(self, eot: int, temperature: float, best_of: int, rng: np.random.Generator, length_penalty=None):
        self.eot = eot
        self.temperature = temperature
        self.n = max(1, best_of)
        self.rng = rng
        self.length_penalty = length_penalty

    def search(self, stepper, logits, filt, prefix, max_len):
        eot, n = self.eot, self.n
        w, vocab = logits.shape
        rows = w * n
        seqs: list[list[int]] = [list(prefix) for _ in range(rows)]
        cands = [Candidate([], [], 0.0, finished=False) for _ in range(rows)]
        logits = logits[np.repeat(np.arange(w), n)]
        reorder = np.repeat(np.arange(w), n)
        for _ in range(max_len):
            lp = filt(logits, seqs)
            p = np.exp(log_softmax(lp / self.temperature))
            p = np.nan_to_num(p)
            cum = np.cumsum(p, axis=-1)
            u = self.rng.random(rows)[:, None] * cum[:, -1:]
            nxt = np.minimum((cum < u).sum(axis=-1), vocab - 1)
            for r, c in enumerate(cands):
                if c.finished:
                    continue
                t = int(nxt[r])
                c.sum_logprob += lp[r, t]
                if t == eot:
                    c.finished = True
                else:
                    c.tokens.append(t)
                    c.token_logprobs.append(float(lp[r, t]))
                    seqs[r].append(t)
            if all(c.finished for c in cands):
                break
            last = np.array([s[-1] if (s and not c.finished) else eot for s, c in zip(seqs, cands)], dtype=np.int64)
            logits = stepper.step(last, reorder)
            reorder = np.arange(rows)
        out = []
        for wi in range(w):
            group = cands[wi * n : (wi + 1) * n]
            best = max(group, key=lambda c: rank(c.sum_logprob, len(c.tokens) + 1, self.length_penalty))
            best.sum_logprob = float(best.sum_logprob)
            out.append(best)
        return out


def repeats(seq: list[int], new: int, n: int) -> bool:
    """True when the last ``n`` tokens (all newly sampled) already occur earlier in ``seq``."""
    if new < n or len(seq) < 2 * n:
        return False
    tail = seq[-n:]
    first = tail[0]
    return any(seq[i] == first and seq[i : i + n] == tail for i in range(len(seq) - n))


class Decoder:
    """Turns encoded windows into token sequences with the chosen strategy."""

    def __init__(self, model: OnnxWhisper, tok: Tokenizer, cancel: Callable[[], None] | None = None):
        self.model = model
        self.tok = tok
        self.cancel = cancel or (lambda: None)
        self.vocab = model.manifest.dims["n_vocab"]
        self._filters: dict[tuple, LogitFilter] = {}

    # -- prompts ---------------------------------------------------------------------------
    def prompt_tokens(self, opts: DecodingOptions) -> list[int]:
        parts = []
        if opts.hotwords:
            parts.append(" " + opts.hotwords.strip())
        if opts.initial_prompt:
            parts.append(" " + opts.initial_prompt.strip())
        if not parts:
            return []
        ids = self.tok.encode("".join(parts))[-(self.model.n_text_ctx // 2 - 1) :]
        return [self.tok.sot_prev, *ids]

    def suppress_list(self, opts: DecodingOptions) -> np.ndarray:
        ids: set[int] = set()
        for t in opts.suppress_tokens or ():
            if t == -1:
                known = self.model.manifest.suppress_ids
                ids.update(known if known is not None else self.tok.non_speech_tokens)
            elif t >= 0:
                ids.add(t)
        ids.update({self.tok.transcribe, self.tok.translate, self.tok.sot, self.tok.sot_prev})
        if self.tok.no_speech is not None:
            ids.add(self.tok.no_speech)
        return np.array(sorted(i for i in ids if i < self.vocab), dtype=np.int64)

    def logit_filter(self, opts: DecodingOptions) -> LogitFilter:
        """The filter for ``opts``, built once per kind of pass (live asks for one every hypothesis)."""
        key = (opts.without_timestamps, opts.max_initial_timestamp, opts.suppress_blank, opts.suppress_tokens)
        if key not in self._filters:
            self._filters[key] = self._build_filter(opts)
        return self._filters[key]

    def _build_filter(self, opts: DecodingOptions) -> LogitFilter:
        rules = None
        if not opts.without_timestamps:
            max_initial = opts.max_initial_timestamp
            rules = TimestampRules(self.tok, round(max_initial / 0.02) if max_initial is not None else None)
        blank = self.tok.blank_tokens if opts.suppress_blank else []
        return LogitFilter(self.suppress_list(opts), blank, rules)

    def strategy(self, opts: DecodingOptions, temperature: float, ids: list[int]) -> SearchStrategy:
        eot = self.tok.eot
        if temperature > 0.0:
            rng = np.random.default_rng(opts.seed + 7919 * int(temperature * 100) + sum(ids))
            return Sampler(eot, temperature, opts.best_of, rng, opts.length_penalty)
        if opts.beam_size <= 1:
            return GreedySearch(eot, opts.stop_on_repeat)
        return BeamSearch(eot, opts.beam_size, opts.patience, opts.length_penalty)

    # -- entry point -----------------------------------------------------------------------
    def decode(self, cross: list, opts: DecodingOptions) -> list[WindowResult]:
        """Decode W encoded windows; windows failing the quality checks are retried hotter."""
        w = n_windows(cross)
        results: list[WindowResult | None] = [None] * w
        tried: list[list[WindowResult]] = [[] for _ in range(w)]
        todo = list(range(w))
        language_info = None
        for temperature in opts.temperatures:
            sub = cross if len(todo) == w else select_windows(cross, todo)
            out, language_info = self._decode_once(sub, opts, temperature, language_info, todo)
            retry = []
            for i, res in zip(todo, out):
                results[i] = res
                tried[i].append(res)
                if self._needs_fallback(res, opts):
                    retry.append(i)
            todo = retry
            if not todo:
                break
        for i in todo:  # every temperature failed: the likeliest reading that does not loop
            results[i] = self._best_of(tried[i], opts)
        return [r for r in results if r is not None]

    @staticmethod
    def _best_of(tried: list[WindowResult], opts: DecodingOptions) -> WindowResult:
        """Not the hottest (usually the worst) sample: the highest mean log-probability,
        among readings under the compression threshold where there are any (as faster-whisper)."""
        limit = opts.compression_ratio_threshold
        calm = [r for r in tried if limit is None or r.compression_ratio <= limit]
        return max(calm or tried, key=lambda r: r.avg_logprob)

    @staticmethod
    def _needs_fallback(res: WindowResult, opts: DecodingOptions) -> bool:
        if is_silence(res, opts):
            return False  # silence: keep, it will be dropped
        if is_repetitive(res, opts):
            return True
        return opts.log_prob_threshold is not None and res.avg_logprob < opts.log_prob_threshold

    # -- one pass at one temperature -------------------------------------------------------
    def _decode_once(self, cross, opts: DecodingOptions, temperature: float, language_info, ids):
        m, tok = self.model, self.tok
        w = n_windows(cross)
        prompt = self.prompt_tokens(opts)
        # Step A: [prompt..., SOT] -> no-speech probability and language scores at SOT.
        first = np.array([[*prompt, tok.sot]] * w, dtype=np.int64)
        logits, _, cache = m.step(first, np.arange(w), m.empty_cache(w), cross)
        lp = log_softmax(logits)
        no_speech = np.exp(lp[:, tok.no_speech]) if tok.no_speech is not None else np.zeros(w)
        if opts.language is None:
            if language_info is None:
                lang_ids = np.array(tok.language_ids)
                scores = lp[:, lang_ids]
                probs = np.exp(log_softmax(scores.sum(axis=0, keepdims=True)))[0]
                best = int(lang_ids[int(np.argmax(probs))])
                language_info = (
                    tok.language_code(best),
                    {tok.language_code(int(t)): float(p) for t, p in zip(lang_ids, probs) if p > 0.01},
                )
            language, lang_probs = language_info
        else:
            language, lang_probs = opts.language, {}
        # Step B: the rest of the SOT sequence and the prefix -> distribution of the first sampled token.
        prefix = list(opts.prefix)
        rest = tok.sot_sequence(language, opts.task)[1:]
        if opts.without_timestamps:
            rest.append(tok.no_timestamps)
        tokens = np.array([rest + prefix] * w, dtype=np.int64)
        logits, _, cache = m.step(tokens, np.arange(w), cache, cross)
        sample_begin = len(prompt) + 1 + len(rest) + len(prefix)
        max_len = opts.sample_len or (m.n_text_ctx // 2)
        max_len = max(0, min(max_len, m.n_text_ctx - sample_begin))
        stepper = Stepper(m, cross, cache, self.cancel)
        found = self.strategy(opts, temperature, ids).search(stepper, logits, self.logit_filter(opts), prefix, max_len)
        out = []
        for i, c in enumerate(found):
            text = tok.decode([t for t in c.tokens if t < tok.eot])
            out.append(
                WindowResult(
                    tokens=c.tokens,
                    token_logprobs=c.token_logprobs,
                    avg_logprob=float(c.avg_logprob()),
                    compression_ratio=compression_ratio(text),
                    no_speech_prob=float(no_speech[i]),
                    temperature=temperature,
                    language=language,
                    language_probs=lang_probs,
                    finished=c.finished,
                )
            )
        return out, language_info
