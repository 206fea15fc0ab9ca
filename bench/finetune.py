"""Fine-tuning benchmark: `minutes train` on the domain-vocabulary set, as a user runs it.

Each variant is one `minutes train` run on bench/finetune_data.py's set (15 minutes of our own
sentences full of names, products and drugs; espeak-ng voices; babble), measured from outside:
wall time, peak RSS, steps/s (from the run's event log), and the scores the run printed: dev
WER and term recall before/after, and WER on asr_en.tsv before/after (forgetting). Then the
exported INT8 model is checked against the fine-tuned torch model on the dev clips (greedy both,
30 s input): how many texts are the same.

    .venv/bin/python -m bench.finetune                       # the quick preset
    .venv/bin/python -m bench.finetune --variants quick,no-specaugment,no-noise,no-speed,lora,full
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "finetune"

# variant -> (extra --set values, [augment] TOML lines)
VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    "quick": ([], []),
    "steps-100": (["steps=100", "eval_every=50"], []),
    "lr-5e-6": (["lr=5e-6"], []),
    "no-specaugment": ([], ["[augment.spec_augment]", "enabled = false"]),
    "no-noise": ([], ["[augment.noise]", "enabled = false"]),
    "no-speed": ([], ["[augment.speed]", "enabled = false"]),
    "no-augment": (
        [],
        ["[augment.spec_augment]", "enabled = false", "[augment.noise]", "enabled = false"]
        + ["[augment.speed]", "enabled = false"],
    ),
    "lora": (["lora_rank=8", "freeze_encoder=false"], []),
    "full": (["freeze_encoder=false"], []),
    "full-ckpt": (["freeze_encoder=false", "grad_checkpointing=true"], []),
}


def home_dir() -> Path:
    """The runs' own data folder (registry, runs), sharing the main model cache."""
    from engine.paths import data_dir

    home = OUT / "home"
    (home / "models").mkdir(parents=True, exist_ok=True)
    for cached in ("whisper-base", "ge2e"):
        src, dst = data_dir() / "models" / cached, home / "models" / cached
        if src.exists() and not dst.exists():
            dst.symlink_to(src)
    return home


def run_variant(name: str, data: Path, home: Path, extra: list[str]) -> dict:
    sets, toml = VARIANTS[name]
    config = OUT / f"{name}.toml"
    config.write_text("\n".join(toml) + "\n", encoding="utf-8")
    model = f"bench-{name}-{int(time.time())}"
    cmd = [sys.executable, "-m", "app.cli", "train", "--train", str(data / "train.jsonl")]
    cmd += ["--dev", str(data / "dev.jsonl"), "--name", model, "--config", str(config), "--json"]
    cmd += ["--terms", (data / "terms.txt").read_text(encoding="utf-8").strip()]
    for s in sets + extra:
        cmd += ["--set", s]
    env = {**os.environ, "MINUTES_DATA_DIR": str(home)}
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this run's own peak RSS, not the largest so far
        wall = time.monotonic() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    peak = usage.ru_maxrss / 1024  # MiB
    if code != 0:
        print(stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{name}: minutes train failed ({code})")
    summary = json.loads(stdout)
    events = [json.loads(x) for x in (home / "training" / model / "events.jsonl").read_text().splitlines()]
    steps = [e for e in events if e["type"] == "step"]
    train_s = steps[-1]["elapsed_s"] if steps and steps[-1].get("elapsed_s") else summary["train_seconds"]
    return {
        "variant": name,
        "model": model,
        "wall_s": round(wall, 1),
        "train_s": round(train_s, 1),
        "steps": summary["steps"],
        "steps_per_s": round(summary["steps"] / train_s, 3) if train_s else None,
        "peak_rss_mib": round(peak),
        "before": summary["before"],
        "after": summary["after"],
    }


def torch_vs_onnx(model_name: str, data: Path, home: Path) -> dict:
    """Greedy texts of the fine-tuned torch weights and of the registered INT8 export, same clips."""
    code = f"""
import json, torch
from pathlib import Path
from engine.asr.convert import load_openai_checkpoint
from engine.asr.tokenizer import Tokenizer
from engine.models.store import packaged_model
from engine.recognizer import RecognizerSpec
from engine.training.data import ClipData
from engine.training.evaluate import EvalOptions, transcribe_clips
from engine.training.forward import TrainForward
from engine.training.manifest import read_manifest
dev = read_manifest({str(data / "dev.jsonl")!r}).utterances
model = load_openai_checkpoint(Path({str(home / "training" / model_name / "model.pt")!r})).eval()
tok = Tokenizer(packaged_model().tokenizer)
clips = ClipData(dev, tok, model.dims.n_mels, model.dims.n_text_ctx)
fwd = TrainForward(model)
torch_texts = []
with torch.no_grad():
    for i in range(len(clips)):
        b = clips.batch([i], trim=False)
        start = torch.tensor([clips.sequences[i][: clips.prefix_lengths[i]]])
        ids = fwd.greedy(b.mel, start, [int(8 * dev[i].duration) + 10], tok.eot,
                         tok.non_speech_tokens, tok.blank_tokens)[0]
        torch_texts.append(tok.decode(ids).strip())
out = {{"clips": len(dev)}}
for precision in ("int8", "fp32"):
    rec = RecognizerSpec({model_name!r}, "cpu", precision).load()
    texts = transcribe_clips(rec, dev, EvalOptions(language="en", beam_size=1))
    out[precision] = {{"same_text": sum(a == b for a, b in zip(torch_texts, texts)),
                      "examples": [[a, b] for a, b in zip(torch_texts, texts) if a != b][:3]}}
print(json.dumps(out))
"""
    env = {**os.environ, "MINUTES_DATA_DIR": str(home)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_line(c: dict) -> str:
    if "error" in c:
        return f"torch-vs-ONNX check failed: {c['error']}"
    parts = [f"{p.upper()} {c[p]['same_text']}/{c['clips']}" for p in ("int8", "fp32") if p in c]
    return "exported model vs torch weights (greedy both), same text on dev clips: " + ", ".join(parts)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def table(results: list[dict]) -> str:
    head = "| variant | dev WER before → after | term recall before → after | asr_en WER before → after "
    head += "| wall | steps | steps/s | peak RSS |\n|---|---|---|---|---|---|---|---|"
    rows = [head]
    for r in results:
        b, a = r["before"], r["after"]
        rows.append(
            f"| {r['variant']} | {_pct(b['dev']['rate'])} → {_pct(a['dev']['rate'])} "
            f"| {_pct(b['dev'].get('term_recall'))} → {_pct(a['dev'].get('term_recall'))} "
            f"| {_pct(b.get('general', {}).get('rate'))} → {_pct(a.get('general', {}).get('rate'))} "
            f"| {r['wall_s'] / 60:.1f} min | {r['steps']} | {r['steps_per_s']} | {r['peak_rss_mib']} MiB |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="quick")
    ap.add_argument("--set", action="append", default=[], help="extra training setting for every variant")
    ap.add_argument("--data", type=Path, default=OUT / "data")
    ap.add_argument("--no-check", action="store_true", help="skip the torch-vs-ONNX text check")
    ap.add_argument("--check-only", metavar="MODEL", help="only the torch-vs-ONNX check of a trained model")
    args = ap.parse_args(argv)
    if args.check_only:
        result = torch_vs_onnx(args.check_only, args.data, home_dir())
        print(json.dumps(result, indent=1))
        print(check_line(result))
        return 0
    if not (args.data / "dev.jsonl").exists():
        from bench.finetune_data import main as build

        build(["--out", str(args.data)])
    home = home_dir()
    results = []
    for name in args.variants.split(","):
        print(f"[finetune] {name} ...", file=sys.stderr, flush=True)
        r = run_variant(name, args.data, home, args.set)
        if not args.no_check and name == "quick":
            r["torch_vs_onnx"] = torch_vs_onnx(r["model"], args.data, home)
        results.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    out = OUT / f"results-{'-'.join(args.variants.split(','))}.json"
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))
    for r in results:
        if "torch_vs_onnx" in r:
            print(f"\n{r['variant']}: {check_line(r['torch_vs_onnx'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
