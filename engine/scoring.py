"""How right a transcript is: normalised WER/CER, word-level diffs and the recall of given terms.

One place for the numbers that the benchmarks (bench/), the tests and fine-tuning's evaluation
(engine/training) report, so a WER means the same everywhere. Text is normalised the way
Whisper's papers score it: Whisper's English normaliser for English (lower case, numbers and
spellings made uniform, no punctuation), its basic normaliser for other spaced languages, and
letters and digits only, compared character by character, for writing without spaces (Chinese,
Japanese, Thai: CER). Pure text, no model: jiwer and whisper_normalizer load on first use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from engine.text import is_no_space_char, no_space

_BRACKETS = re.compile(r"[()\[\]]")


@lru_cache(maxsize=2)
def _normalizer(kind: str) -> Callable[[str], str]:
    if kind == "en":
        from whisper_normalizer.english import EnglishTextNormalizer

        return EnglishTextNormalizer()
    from whisper_normalizer.basic import BasicTextNormalizer

    return BasicTextNormalizer()


def normalize_en(text: str) -> str:
    """Whisper's English normaliser (lower case, spelled-out numbers, British spellings, no punctuation)."""
    return _normalizer("en")(text)


def normalize_zh(text: str) -> str:
    """Keep letters and digits only (drop punctuation, symbols, spaces, marks); Latin letters lower-cased."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


def by_characters(language: str | None, reference: str = "") -> bool:
    """True when text of ``language`` is scored by characters (CER): writing without spaces.
    With no language, a reference that has characters of such a script is."""
    if language:
        return no_space(language)
    return any(is_no_space_char(ch) for ch in reference)


def normalize(text: str, language: str | None) -> str:
    """``text`` as it is scored for ``language`` (None: English, or by characters if the text is CJK/Thai)."""
    if by_characters(language, text):
        return normalize_zh(text)
    return _normalizer("en" if language in (None, "en") else "basic")(text)


@dataclass
class DiffOp:
    """One step of the alignment of reference to hypothesis, for showing the differences."""

    kind: str  # "equal" | "substitute" | "delete" (in the reference only) | "insert" (in the hypothesis only)
    ref: list[str]
    hyp: list[str]


@dataclass
class UtteranceScore:
    """One reference/hypothesis pair: the texts, what was compared, the edits and the diff."""

    ref: str
    hyp: str
    ref_norm: str
    hyp_norm: str
    unit: str  # "word" or "char"
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ops: list[DiffOp] = field(default_factory=list)

    @property
    def units(self) -> int:
        """Words (or characters) in the normalised reference."""
        return self.hits + self.substitutions + self.deletions

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Edits per reference unit (an empty reference counts as one unit)."""
        return self.errors / max(self.units, 1)


@dataclass
class Score:
    """A set of pairs: WER over the word-scored ones, CER over the character-scored ones, each pair."""

    utterances: list[UtteranceScore]

    def _rate(self, unit: str | None) -> float | None:
        chosen = [u for u in self.utterances if unit is None or u.unit == unit]
        if not chosen:
            return None
        return sum(u.errors for u in chosen) / max(sum(u.units for u in chosen), 1)

    @property
    def wer(self) -> float | None:
        """Corpus word error rate (total edits / reference words); None when no pair is scored by words."""
        return self._rate("word")

    @property
    def cer(self) -> float | None:
        """Corpus character error rate of the pairs in writing without spaces; None when there are none."""
        return self._rate("char")

    @property
    def rate(self) -> float:
        """The headline: total edits / total reference units (the WER, or the CER, of a one-language set)."""
        return self._rate(None) or 0.0


def score_pair(ref: str, hyp: str, language: str | None = None) -> UtteranceScore:
    """Normalise both texts for ``language`` and align them by words (or characters)."""
    import jiwer

    chars = by_characters(language, ref)
    as_scored = "zh" if chars else (language or "en")  # the pair is scored one way, whatever the hypothesis
    ref_norm, hyp_norm = normalize(ref, as_scored), normalize(hyp, as_scored)
    out = (jiwer.process_characters if chars else jiwer.process_words)(ref_norm, hyp_norm)
    r, h = out.references[0], out.hypotheses[0]
    ops = [
        DiffOp(c.type, list(r[c.ref_start_idx : c.ref_end_idx]), list(h[c.hyp_start_idx : c.hyp_end_idx]))
        for c in out.alignments[0]
    ]
    return UtteranceScore(
        ref, hyp, ref_norm, hyp_norm, "char" if chars else "word",
        out.hits, out.substitutions, out.deletions, out.insertions, ops,
    )  # fmt: skip


def score(refs: Sequence[str], hyps: Sequence[str], language: str | None | Sequence[str | None] = None) -> Score:
    """Score pairs in order; ``language`` is one for all, or one per pair (a manifest's languages)."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    langs = [language] * len(refs) if language is None or isinstance(language, str) else list(language)
    if len(langs) != len(refs):
        raise ValueError(f"{len(refs)} references but {len(langs)} languages")
    return Score([score_pair(r, h, lang) for r, h, lang in zip(refs, hyps, langs)])


def wer(refs: Sequence[str], hyps: Sequence[str], keep_ref_brackets: bool = False) -> float:
    """Corpus-level word error rate (0..1+) over normalised English pairs: total edits / reference words.

    Whisper's normaliser deletes text in (...) and [...]. One asr_en reference (LJ001-0024, also in the
    longform reference) has spoken words in parentheses, so by default they count as insertions; that
    matches the published anchor. `keep_ref_brackets=True` keeps their words in the references.
    """
    if keep_ref_brackets:
        refs = [_BRACKETS.sub(" ", r) for r in refs]
    return score(refs, hyps, "en").rate


def cer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus-level character error rate over `normalize_zh` text: total edits / reference characters."""
    return score(refs, hyps, "zh").rate


# ----------------------------------------------------------------------------- term recall


@dataclass
class TermRecall:
    """How often a term the user cares about (a name, a drug) came out exactly where it was said."""

    term: str
    expected: int  # occurrences in the references
    found: int  # of those, occurrences in the hypotheses of the same utterances

    @property
    def recall(self) -> float | None:
        """found / expected; None when no reference contains the term."""
        return self.found / self.expected if self.expected else None


def parse_terms(text: str) -> list[str]:
    """Terms from ``"Kestrova; dapagliflozin"`` (``;`` or new lines between them), blanks dropped."""
    return list(dict.fromkeys(t.strip() for t in re.split(r"[;\n]", text) if t.strip()))


def _term_text(text: str) -> str:
    # Case and punctuation do not count: letters, digits and marks, one space between runs.
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in text)
    return " ".join(kept.split())


def _count(term: str, text: str) -> int:
    """Occurrences of the normalised ``term`` in the normalised ``text``: whole words, or anywhere in
    writing without spaces (a Chinese name inside a sentence)."""
    if any(is_no_space_char(ch) for ch in term):
        return text.replace(" ", "").count(term.replace(" ", ""))
    return len(re.findall(rf"(?<!\S){re.escape(term)}(?!\S)", text))


def term_recall(terms: Sequence[str], refs: Sequence[str], hyps: Sequence[str]) -> list[TermRecall]:
    """For each term, among the utterances whose reference contains it: how many of its occurrences
    the hypothesis has (at most as many as the reference, per utterance). Case-insensitive,
    punctuation-insensitive; a term may be several words."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    pairs = [(_term_text(r), _term_text(h)) for r, h in zip(refs, hyps)]
    out = []
    for term in terms:
        key = _term_text(term)
        expected = found = 0
        for r, h in pairs:
            n = _count(key, r) if key else 0
            if n:
                expected += n
                found += min(n, _count(key, h))
        out.append(TermRecall(term, expected, found))
    return out
