"""Chinese output in the script the user reads.

Whisper base often writes traditional characters for Mandarin; most users of simplified
Chinese read that as an error (on asr_zh.tsv it is most of the character error rate).
"""

from __future__ import annotations

from functools import lru_cache

from engine.errors import MinutesError

SCRIPTS = ("simplified", "traditional", "asis")


@lru_cache(maxsize=2)
def _converter(config: str):
    try:
        import opencc
    except ImportError as e:
        raise MinutesError("Chinese script conversion needs the 'opencc' package (pip install opencc).") from e
    return opencc.OpenCC(config)


def to_script(text: str, script: str) -> str:
    if script not in SCRIPTS:
        raise MinutesError(f"Unknown Chinese script '{script}': choose simplified, traditional or asis.")
    if script == "asis" or not text:
        return text
    return _converter("t2s" if script == "simplified" else "s2t").convert(text)
