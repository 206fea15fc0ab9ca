"""Whisper's tokenizer over HF ``tokenizers``, with its special tokens by name."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer

from engine.errors import ModelError
from engine.models.tokenizer_fix import FIRST_MERGE, fix_missing_merge  # noqa: F401 - FIRST_MERGE for callers

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese",
    "de": "German",
    "es": "Spanish",
    "ru": "Russian",
    "ko": "Korean",
    "fr": "French",
    "ja": "Japanese",
    "pt": "Portuguese",
    "tr": "Turkish",
    "pl": "Polish",
    "ca": "Catalan",
    "nl": "Dutch",
    "ar": "Arabic",
    "sv": "Swedish",
    "it": "Italian",
    "id": "Indonesian",
    "hi": "Hindi",
    "fi": "Finnish",
    "vi": "Vietnamese",
    "he": "Hebrew",
    "uk": "Ukrainian",
    "el": "Greek",
    "ms": "Malay",
    "cs": "Czech",
    "ro": "Romanian",
    "da": "Danish",
    "hu": "Hungarian",
    "ta": "Tamil",
    "no": "Norwegian",
    "th": "Thai",
    "ur": "Urdu",
    "hr": "Croatian",
    "bg": "Bulgarian",
    "lt": "Lithuanian",
    "la": "Latin",
    "cy": "Welsh",
    "sk": "Slovak",
    "fa": "Persian",
    "lv": "Latvian",
    "bn": "Bengali",
    "sr": "Serbian",
    "sl": "Slovenian",
    "et": "Estonian",
    "mk": "Macedonian",
    "is": "Icelandic",
    "sw": "Swahili",
    "gl": "Galician",
    "yue": "Cantonese",
    "tl": "Tagalog",
    "af": "Afrikaans",
}

# GPT-2's first BPE merge. Some published Whisper tokenizer.json files lack it: decoding is fine
# but encoding "the", " t..." etc. gives wrong ids (prompts, hotwords).


class Tokenizer:
    def __init__(self, path: Path):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"Cannot read tokenizer '{path}': {e}.") from e
        fix_missing_merge(data)
        self.hf = HFTokenizer.from_str(json.dumps(data))
        self.special = {t["content"]: t["id"] for t in data.get("added_tokens", [])}
        self.eot = self.special["<|endoftext|>"]
        self.sot = self.special["<|startoftranscript|>"]
        self.transcribe = self.special["<|transcribe|>"]
        self.translate = self.special["<|translate|>"]
        self.sot_prev = self.special["<|startofprev|>"]
        self.no_timestamps = self.special["<|notimestamps|>"]
        self.no_speech = self.special.get("<|nospeech|>", self.special.get("<|nocaptions|>"))
        self.timestamp_begin = self.no_timestamps + 1
        self.languages = {
            c[2:-2]: i
            for c, i in self.special.items()
            if c.startswith("<|") and c.endswith("|>") and self.sot < i < self.translate
        }

    @cached_property
    def language_ids(self) -> list[int]:
        return sorted(self.languages.values())

    def language_code(self, token_id: int) -> str:
        for code, i in self.languages.items():
            if i == token_id:
                return code
        raise KeyError(token_id)

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.hf.decode([i for i in ids if i < self.eot], skip_special_tokens=False)

    def decode_token_bytes(self, token_id: int) -> bytes:
        """Raw bytes of one token (a word piece may hold part of a UTF-8 character)."""
        piece = self.hf.id_to_token(token_id) or ""
        return bytes(_BYTE_DECODER.get(ch, 0) for ch in piece)

    def sot_sequence(self, language: str | None, task: str = "transcribe") -> list[int]:
        seq = [self.sot]
        if language is not None:
            if language not in self.languages:
                raise ModelError(f"Unknown language code '{language}'.")
            seq.append(self.languages[language])
            seq.append(self.translate if task == "translate" else self.transcribe)
        return seq

    @cached_property
    def blank_tokens(self) -> list[int]:
        """A bare space and EOT: never the first token sampled (an empty or blank transcript)."""
        return [*self.encode(" "), self.eot]

    @cached_property
    def non_speech_tokens(self) -> list[int]:
        """Tokens for symbols that are not speech (music notes, brackets, speaker tags)."""
        symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
        symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
        miscellaneous = set("♩♪♫♬♭♮♯")
        result = {self.encode(" -")[0], self.encode(" '")[0]}
        for sym in symbols + list(miscellaneous):
            for tokens in (self.encode(sym), self.encode(" " + sym)):
                if len(tokens) == 1 or sym in miscellaneous:
                    result.add(tokens[0])
        return sorted(result)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte <-> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


_BYTE_DECODER = {v: k for k, v in _bytes_to_unicode().items()}
