"""Text normalisation, WER/CER and benchmark-data helpers (main venv: needs jiwer, whisper-normalizer).

jiwer, whisper_normalizer and opencc are imported on first use, so that `bench.asr --worker` processes
(whose peak RSS is measured) only load the data helpers.

English is normalised with Whisper's English normaliser before WER; Mandarin is compared character by
character after dropping punctuation, symbols and spaces (optionally after OpenCC t2s on hypotheses).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

LONG_WAV = "longform/en_asr_concat.wav"
LONG_REF = "longform/en_asr_concat.txt"
_BRACKETS = re.compile(r"[()\[\]]")


def data_dir() -> Path:
    """The shared benchmark data folder: $MINUTES_DATA if set, else `../shared/data` beside the repo."""
    env = os.environ.get("MINUTES_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def read_tsv(path: Path, subset: int | None = None) -> list[tuple[Path, str]]:
    """(absolute wav path, reference) pairs of a `relative_wav_path<TAB>reference` file, first `subset`."""
    pairs: list[tuple[Path, str]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rel, _, ref = line.partition("\t")
        pairs.append(((path.parent / rel).resolve(), ref.strip()))
    return pairs[:subset]


def read_asr_en(subset: int | None = None, root: Path | None = None) -> list[tuple[Path, str]]:
    """English utterances of asr_en.tsv as (abs_path, reference)."""
    return read_tsv((root or data_dir()) / "asr_en.tsv", subset)


def read_asr_zh(subset: int | None = None, root: Path | None = None) -> list[tuple[Path, str]]:
    """Mandarin utterances of asr_zh.tsv as (abs_path, reference)."""
    return read_tsv((root or data_dir()) / "asr_zh.tsv", subset)


def read_longform(root: Path | None = None) -> tuple[Path, str]:
    """The 332 s English concatenation and its full reference text."""
    base = root or data_dir()
    return (base / LONG_WAV).resolve(), (base / LONG_REF).read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def _english_normalizer() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize_en(text: str) -> str:
    """Whisper's English normaliser (lower case, spelled-out numbers, British spellings, no punctuation)."""
    return _english_normalizer()(text)


def wer(refs: Sequence[str], hyps: Sequence[str], keep_ref_brackets: bool = False) -> float:
    """Corpus-level word error rate (0..1+) over normalised English pairs: total edits / reference words.

    Whisper's normaliser deletes text in (...) and [...]. One asr_en reference (LJ001-0024, also in the
    longform reference) has spoken words in parentheses, so by default they count as insertions; that
    matches the published anchor. `keep_ref_brackets=True` keeps their words in the references.
    """
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if keep_ref_brackets:
        refs = [_BRACKETS.sub(" ", r) for r in refs]
    import jiwer

    return float(jiwer.wer([normalize_en(r) for r in refs], [normalize_en(h) for h in hyps]))


def normalize_zh(text: str) -> str:
    """Keep letters and digits only (drop punctuation, symbols, spaces, marks); Latin letters lower-cased."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


def cer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus-level character error rate over `normalize_zh` text: total edits / reference characters."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    import jiwer

    return float(jiwer.cer([normalize_zh(r) for r in refs], [normalize_zh(h) for h in hyps]))


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese with OpenCC `t2s`."""
    return _t2s()(text)
