"""ASR benchmark: our ONNX Runtime engine against faster-whisper, side by side in one run.

Each configuration of ours (precision x batch size) and the faster-whisper reference run in their
own subprocess, so that peak RSS (read by the parent with wait4) and caches do not leak between
runs. The reference runs in `.venv-fw` (bench/fw_reference.py); ours runs as
`python -m bench.asr --worker ...` in this venv. Scores: asr_en WER and longform WER after Whisper's
English normaliser, asr_zh CER raw and after OpenCC t2s. Wall times exclude model load and include
decoding the audio files.

Usage (repo root, main venv): .venv/bin/python -m bench.asr [--threads 2] [--beam-size 5]
    [--precisions int8,fp32] [--batch-sizes 1,4,8] [--subset N] [--sets en,zh,long] [--skip-fw]
    [--fw-json FILE] [--out docs/bench-latest.json]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

if __package__:
    from . import scoring
else:  # `python bench/asr.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import scoring

ROOT = Path(__file__).resolve().parents[1]
FW_PYTHON = ROOT / ".venv-fw" / "bin" / "python"
FW_SCRIPT = ROOT / "bench" / "fw_reference.py"
SETS = ("en", "zh", "long")
EXIT_NOT_IMPLEMENTED = 3


# --------------------------------------------------------------------------------------------------
# OUR ENGINE — fill in this function.
# --------------------------------------------------------------------------------------------------
def run_ours(
    files: list[Path], language: str, precision: str, batch_size: int, beam_size: int, threads: int
) -> tuple[dict[str, str], float, float]:
    """Transcribe `files` with our engine; return (hyps keyed by str(abs path), wall_s, peak_rss_mb).

    Contract (matches bench/fw_reference.py): load the model before starting the clock; wall_s covers
    decoding each audio file and transcribing it; `language` is forced ("en" or "zh"); peak_rss_mb is
    this process's peak resident set in MiB (the parent also measures it with wait4 and keeps the max).
    Runs inside a `--worker` subprocess, once per set (en, zh, long) for one precision/batch size.
    """
    import resource
    import time

    from engine.file_job import AsrOptions, TranscribeOptions

    key = (precision, threads)
    if key not in _ENGINES:  # one model per worker process, loaded before the clock starts
        from engine.recognizer import Recognizer

        _ENGINES[key] = Recognizer(device="cpu", precision=precision, threads=threads)
    engine = _ENGINES[key]
    opts = TranscribeOptions(asr=AsrOptions(language=language, beam_size=beam_size, batch_size=batch_size))
    hyps: dict[str, str] = {}
    t0 = time.perf_counter()
    for f in files:
        hyps[str(f)] = engine.transcribe(f, opts).text
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return hyps, wall, peak


_ENGINES: dict = {}


# --------------------------------------------------------------------------------------------------
# Subprocesses
# --------------------------------------------------------------------------------------------------
def _maxrss_mb(maxrss: int) -> float:
    """ru_maxrss in MiB (KiB on Linux, bytes on macOS)."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def run_child(cmd: list[str], out_file: Path, label: str) -> tuple[dict[str, Any] | None, int, float | None]:
    """Run `cmd` (it writes JSON to `out_file`); return (that JSON or None, exit code, its peak RSS MiB)."""
    print(f"[bench] {label}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sys.stderr.fileno())
    peak: float | None = None
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = round(_maxrss_mb(usage.ru_maxrss), 1)
    else:
        proc.wait()
    data = None
    if out_file.is_file() and out_file.stat().st_size:
        data = json.loads(out_file.read_text(encoding="utf-8"))
    return data, proc.returncode, peak


def run_fw(args: argparse.Namespace, tmp: Path) -> dict[str, Any] | None:
    """The faster-whisper reference: from --fw-json, or run in .venv-fw; None when not available."""
    if args.fw_json:
        return json.loads(Path(args.fw_json).read_text(encoding="utf-8"))
    if not FW_PYTHON.exists():
        print("faster-whisper not available: run `make .venv-fw/.done`", file=sys.stderr)
        return None
    out = tmp / "fw.json"
    cmd = [str(FW_PYTHON), str(FW_SCRIPT), "--out", str(out), "--sets", ",".join(args.sets)]
    cmd += ["--compute-type", args.fw_compute_type, "--threads", str(args.threads)]
    cmd += ["--beam-size", str(args.beam_size), "--data", str(args.data)]
    if args.subset:
        cmd += ["--subset", str(args.subset)]
    if args.fw_model_dir:
        cmd += ["--model-dir", args.fw_model_dir]
    data, code, peak = run_child(cmd, out, "faster-whisper")
    if code != 0 or data is None:
        print(f"faster-whisper reference failed (exit {code})", file=sys.stderr)
        return None
    data["peak_rss_mb"] = max(data.get("peak_rss_mb") or 0.0, peak or 0.0)
    return data


def run_ours_config(args: argparse.Namespace, precision: str, batch: int, tmp: Path) -> dict[str, Any] | None:
    """One configuration of ours in a `--worker` subprocess; None when it failed or is not implemented."""
    out = tmp / f"ours-{precision}-b{batch}.json"
    cmd = [sys.executable, "-m", "bench.asr", "--worker", "--worker-out", str(out)]
    cmd += ["--precisions", precision, "--batch-sizes", str(batch), "--beam-size", str(args.beam_size)]
    cmd += ["--threads", str(args.threads), "--sets", ",".join(args.sets), "--data", str(args.data)]
    if args.subset:
        cmd += ["--subset", str(args.subset)]
    data, code, peak = run_child(cmd, out, f"ours {precision} b{batch}")
    if code == EXIT_NOT_IMPLEMENTED:
        print(f"ours ({precision} b{batch}): run_ours is not implemented yet", file=sys.stderr)
        return None
    if code != 0 or data is None or "error" in data:
        detail = (data or {}).get("error", "no output")
        print(f"ours ({precision} b{batch}) failed (exit {code}): {detail}", file=sys.stderr)
        return None
    data["peak_rss_mb"] = max(data.get("peak_rss_mb") or 0.0, peak or 0.0)
    return data


def worker(args: argparse.Namespace) -> int:
    """`--worker`: run our engine on the selected sets for one precision/batch size; write JSON."""
    out = Path(args.worker_out)
    precision, batch = args.precisions[0], args.batch_sizes[0]
    result: dict[str, Any] = {"engine": "minutes", "precision": precision, "batch_size": batch}
    jobs: list[tuple[str, list[Path], str]] = []
    if "en" in args.sets:
        jobs.append(("en", [p for p, _ in scoring.read_asr_en(args.subset, args.data)], "en"))
    if "zh" in args.sets:
        jobs.append(("zh", [p for p, _ in scoring.read_asr_zh(args.subset, args.data)], "zh"))
    if "long" in args.sets:
        jobs.append(("long", [scoring.read_longform(args.data)[0]], "en"))
    peak = 0.0
    try:
        for name, files, language in jobs:
            cpu0 = time.process_time()
            hyps, wall_s, rss = run_ours(files, language, precision, batch, args.beam_size, args.threads)
            cpu_s = time.process_time() - cpu0
            peak = max(peak, rss or 0.0)
            entry: dict[str, Any] = {"wall_s": round(wall_s, 3), "cpu_s": round(cpu_s, 3)}
            if name == "long":
                entry |= {"path": str(files[0]), "text": hyps.get(str(files[0]), "")}
            else:
                entry["hyps"] = hyps
            result[name] = entry
    except NotImplementedError as exc:
        out.write_text(json.dumps({"error": f"NotImplementedError: {exc}"}), encoding="utf-8")
        return EXIT_NOT_IMPLEMENTED
    except Exception:  # noqa: BLE001 - reported to the parent, which carries on with other runs
        out.write_text(json.dumps({"error": traceback.format_exc()}), encoding="utf-8")
        return 1
    own = _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    result["peak_rss_mb"] = round(max(peak, own), 1)
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------------------------------
# Scoring and the table
# --------------------------------------------------------------------------------------------------
def _audio_seconds(path: Path) -> float | None:
    """Duration of a wav file (soundfile when present)."""
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # noqa: BLE001 - optional
        return None


def score(run: dict[str, Any], args: argparse.Namespace) -> dict[str, float | None]:
    """Metrics of one run (ours or faster-whisper) against the references."""
    metrics: dict[str, float | None] = {"load_s": run.get("load_s"), "peak_rss_mb": run.get("peak_rss_mb")}
    if "en" in run:
        pairs = scoring.read_asr_en(args.subset, args.data)
        hyps = [run["en"]["hyps"].get(str(p), "") for p, _ in pairs]
        metrics["en_wer"] = scoring.wer([r for _, r in pairs], hyps)
        metrics["en_wall_s"] = run["en"]["wall_s"]
    if "zh" in run:
        pairs = scoring.read_asr_zh(args.subset, args.data)
        hyps = [run["zh"]["hyps"].get(str(p), "") for p, _ in pairs]
        refs = [r for _, r in pairs]
        metrics["zh_cer"] = scoring.cer(refs, hyps)
        metrics["zh_cer_t2s"] = scoring.cer(refs, [scoring.to_simplified(h) for h in hyps])
        metrics["zh_wall_s"] = run["zh"]["wall_s"]
    if "long" in run:
        path, ref = scoring.read_longform(args.data)
        audio_s = run["long"].get("audio_s") or _audio_seconds(path)
        metrics["long_wall_s"] = run["long"]["wall_s"]
        metrics["long_rtf"] = run["long"]["wall_s"] / audio_s if audio_s else None
        metrics["long_wer"] = scoring.wer([ref], [run["long"]["text"]])
    return metrics


ROWS: list[tuple[str, str, str]] = [
    ("en_wer", "asr_en WER", "pct"),
    ("zh_cer", "asr_zh CER (raw)", "pct"),
    ("zh_cer_t2s", "asr_zh CER (OpenCC t2s)", "pct"),
    ("en_wall_s", "asr_en wall s", "s"),
    ("zh_wall_s", "asr_zh wall s", "s"),
    ("long_wall_s", "longform wall s", "s"),
    ("long_rtf", "longform RTF", "rtf"),
    ("long_wer", "longform WER", "pct"),
    ("peak_rss_mb", "peak RSS MiB", "mb"),
    ("load_s", "model load s", "s"),
]


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    formats = {"pct": f"{100 * value:.1f}%", "s": f"{value:.1f}", "rtf": f"{value:.3f}", "mb": f"{value:.0f}"}
    return formats[kind]


def format_tables(columns: dict[str, dict[str, float | None]], fw_name: str = "faster-whisper") -> str:
    """Values table (one column per run) and, when faster-whisper ran, a ratio ours/fw table."""
    names = list(columns)
    width = max(24, *(len(label) for _, label, _ in ROWS)) + 2
    colw = max(12, *(len(n) + 2 for n in names)) if names else 12
    used = [row for row in ROWS if any(columns[n].get(row[0]) is not None for n in names)]
    lines = ["".ljust(width) + "".join(n.rjust(colw) for n in names)]
    for key, label, kind in used:
        lines.append(label.ljust(width) + "".join(_fmt(columns[n].get(key), kind).rjust(colw) for n in names))
    ours = [n for n in names if n != fw_name]
    if fw_name in columns and ours:
        fw = columns[fw_name]
        lines += ["", "ratio ours / faster-whisper".ljust(width) + "".join(n.rjust(colw) for n in ours)]
        for key, label, _ in used:
            cells = []
            for n in ours:
                a, b = columns[n].get(key), fw.get(key)
                cells.append(f"{a / b:.2f}x" if a is not None and b else "-")
            lines.append(label.ljust(width) + "".join(c.rjust(colw) for c in cells))
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    """Versions of the main venv's runtime packages that matter for the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("onnxruntime", "onnxruntime-gpu", "numpy", "jiwer", "whisper-normalizer", "OpenCC"):
        with contextlib.suppress(PackageNotFoundError):
            found[dist] = version(dist)
    return found


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------
def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (the same parser serves the parent and `--worker`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--precisions", type=_csv, default=["int8", "fp32"], help="comma list")
    parser.add_argument("--batch-sizes", type=lambda t: [int(x) for x in _csv(t)], default=[1, 4, 8])
    parser.add_argument("--subset", type=int, help="only the first N lines of asr_en.tsv / asr_zh.tsv")
    parser.add_argument("--sets", type=_csv, default=list(SETS), help="comma list among en,zh,long")
    parser.add_argument("--data", type=Path, default=None, help="default: scoring.data_dir()")
    parser.add_argument("--skip-fw", action="store_true", help="do not run faster-whisper")
    parser.add_argument("--fw-json", help="reuse a saved fw_reference.py JSON instead of running it")
    parser.add_argument("--fw-compute-type", default="int8")
    parser.add_argument("--fw-model-dir", help="CTranslate2 folder for the reference")
    parser.add_argument("--skip-ours", action="store_true", help="only the faster-whisper side")
    parser.add_argument("--out", type=Path, default=Path("docs/bench-latest.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run everything, print the tables, write --out."""
    args = build_parser().parse_args(argv)
    bad = set(args.sets) - set(SETS)
    if bad:
        raise SystemExit(f"unknown sets: {', '.join(sorted(bad))}")
    args.data = (args.data or scoring.data_dir()).resolve()
    if args.worker:
        return worker(args)
    if not args.data.is_dir():
        raise SystemExit(f"benchmark data not found at {args.data} (set MINUTES_DATA)")
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="minutes-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_ours:
            for precision in args.precisions:
                for batch in args.batch_sizes:
                    data = run_ours_config(args, precision, batch, tmp)
                    if data is not None:
                        runs[f"ours {precision} b{batch}"] = data
        if not args.skip_fw:
            fw = run_fw(args, tmp)
            if fw is not None:
                runs["faster-whisper"] = fw
    if not runs:
        print("nothing ran", file=sys.stderr)
        return 1
    columns = {name: score(run, args) for name, run in runs.items()}
    title = f"Whisper base, {args.threads} threads, beam {args.beam_size}, sets {','.join(args.sets)}"
    if args.subset:
        title += f", subset {args.subset}"
    if "faster-whisper" in runs:
        title += f"; faster-whisper {runs['faster-whisper'].get('compute_type')}"
    print(title)
    print(format_tables(columns))
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": _versions(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k[:6] != "worker"},
        "metrics": columns,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
