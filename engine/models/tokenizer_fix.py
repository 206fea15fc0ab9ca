"""A repair of Whisper tokenizer files, needed both where models are installed (models/store.py)
and where the tokenizer is loaded (asr/tokenizer.py): it lives with the models, below asr.

Some tokenizer.json files (the packaged CTranslate2 conversion among them) lack GPT-2's first
BPE merge, so "the" and every word starting with " t" tokenizes differently from Whisper's.
"""

from __future__ import annotations

FIRST_MERGE = "Ġ t"


def fix_missing_merge(tokenizer_json: dict) -> bool:
    """Put GPT-2's first merge back if missing. Returns True if the data was changed."""
    merges = tokenizer_json.get("model", {}).get("merges")
    if merges is None:
        return False
    as_pairs = bool(merges) and isinstance(merges[0], list)
    first = FIRST_MERGE.split(" ") if as_pairs else FIRST_MERGE
    if first in merges[:5] or first in merges:
        return False
    merges.insert(0, first)
    return True
