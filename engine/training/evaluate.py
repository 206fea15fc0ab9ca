"""How good a model is on a set of clips: WER/CER, per-utterance diffs, term recall.

Fine-tuning is judged by what users get, so evaluation runs the exported ONNX model through
the same decoder as files and live (engine/asr/decoding.py), one window per clip (clips are
at most 30 s, as the manifest checker makes sure). The forgetting check is the same on a
general set (``asr_en.tsv`` by default): a fine-tune that learns names but breaks plain
English shows there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Cancelled
from engine.scoring import Score, TermRecall, score, term_recall
from engine.training.manifest import Utterance

BATCH = 8  # clips decoded together (one decoder call per token for all of them)


@dataclass(frozen=True)
class EvalOptions:
    language: str | None = None  # None: each clip's manifest language, else detected
    beam_size: int = 5
    chinese: str = "simplified"


@dataclass
class EvalReport:
    """Scores of one model on one set; ``to_dict`` is what ``minutes evaluate --json`` prints."""

    model: str
    score: Score
    hypotheses: list[str]
    utterances: list[Utterance]
    terms: list[TermRecall] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        s = self.score
        d: dict[str, Any] = {
            "model": self.model,
            "utterances": len(self.utterances),
            "wer": s.wer,
            "cer": s.cer,
            "rate": s.rate,
            "per_utterance": [
                {
                    "audio": str(u.audio_filepath),
                    "reference": p.ref,
                    "hypothesis": p.hyp,
                    "errors": p.errors,
                    "units": p.units,
                    "ops": [[op.kind, op.ref, op.hyp] for op in p.ops],
                }
                for u, p in zip(self.utterances, s.utterances)
            ],
        }
        if self.terms:
            found = sum(t.found for t in self.terms)
            expected = sum(t.expected for t in self.terms)
            d["term_recall"] = found / expected if expected else None
            d["terms"] = [{"term": t.term, "found": t.found, "expected": t.expected} for t in self.terms]
        return d

    def worst(self, n: int = 10) -> list[int]:
        """Indexes of the ``n`` utterances with the most errors (the evaluate page lists them)."""
        pairs = self.score.utterances
        order = sorted(range(len(pairs)), key=lambda i: -pairs[i].errors)
        return [i for i in order[:n] if pairs[i].errors]


def transcribe_clips(
    recognizer,
    clips: Sequence[Utterance],
    options: EvalOptions = EvalOptions(),
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[str]:
    """The text of each clip, decoded as one window (beam search, Whisper's fallback rules)."""
    from engine.asr.chinese import to_script
    from engine.asr.decoding import Decoder, DecodingOptions, is_silence
    from engine.asr.features import log_mel
    from engine.asr.runtime import concat_windows
    from engine.audio.decode import load_audio

    model, tok = recognizer.model, recognizer.tokenizer
    decoder = Decoder(model, tok)
    out: list[str] = []
    # one language per batch: group clips by it, keep their order in the result
    for start in range(0, len(clips), BATCH):
        if cancel is not None and cancel.is_set():
            raise Cancelled("Evaluation cancelled.")
        batch = clips[start : start + BATCH]
        groups: dict[str | None, list[int]] = {}
        for i, u in enumerate(batch):
            groups.setdefault(options.language or u.language, []).append(i)
        texts = [""] * len(batch)
        for language, idx in groups.items():
            mels = [log_mel(load_audio(batch[i].audio_filepath), model.n_mels)[None] for i in idx]
            cross = concat_windows([model.encode(m) for m in mels])
            opts = DecodingOptions(language=language, beam_size=options.beam_size, without_timestamps=True)
            for i, res in zip(idx, decoder.decode(cross, opts)):
                if is_silence(res, opts):
                    continue
                text = tok.decode([t for t in res.tokens if t < tok.eot]).strip()
                if res.language in ("zh", "yue"):
                    text = to_script(text, options.chinese)
                texts[i] = text
        out.extend(texts)
        if progress is not None:
            progress(len(out), len(clips))
    return out


def evaluate(
    recognizer,
    clips: Sequence[Utterance],
    terms: Sequence[str] = (),
    options: EvalOptions = EvalOptions(),
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> EvalReport:
    """Decode every clip and score it against its manifest text."""
    hyps = transcribe_clips(recognizer, clips, options, progress, cancel)
    refs = [u.text for u in clips]
    languages = [options.language or u.language for u in clips]
    report = EvalReport(recognizer.model_name, score(refs, hyps, languages), hyps, list(clips))
    if terms:
        report.terms = term_recall(terms, refs, hyps)
    return report


# The forgetting check's default clips: plain read English (LJ Speech), beside the repo.
DEFAULT_GENERAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "asr_en.tsv"


def general_set(path: str | Path | None = None) -> list[Utterance]:
    """The forgetting check's clips: a ``path<TAB>text`` file (default: the shared asr_en.tsv)."""
    from engine.training.importers import import_tsv

    return import_tsv(path or DEFAULT_GENERAL, language="en").utterances
