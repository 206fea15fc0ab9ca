"""Benchmark-data helpers, and the engine's scoring (engine/scoring.py) under the names benches use.

Normalisation and WER/CER live in engine/scoring.py (fine-tuning's evaluation reports them too):
English through Whisper's English normaliser, Mandarin character by character after dropping
punctuation, symbols and spaces (optionally after OpenCC t2s on hypotheses, here). jiwer,
whisper_normalizer and opencc are imported on first use, so that `bench.asr --worker` processes
(whose peak RSS is measured) only load the data helpers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from engine.scoring import cer, normalize_en, normalize_zh, wer  # noqa: F401 - the benches' names

LONG_WAV = "longform/en_asr_concat.wav"
LONG_REF = "longform/en_asr_concat.txt"


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
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese with OpenCC `t2s`."""
    return _t2s()(text)
