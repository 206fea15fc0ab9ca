"""`minutes train` and `minutes evaluate`: fine-tune the recognizer, and measure a model.

`train` runs engine/training/finetune.py: the data and the name checked first, the packaged model
scored, training (a progress bar here, the JSONL event log for the Training tab), export to ONNX,
the export scored, the model registered for `--model NAME`. `evaluate` gives the numbers a
fine-tune is judged by: WER (CER for Chinese/Japanese) with Whisper's normaliser, and how often
each listed term (a colleague's name, a drug) comes out exactly. With ``--json`` one object on
stdout, for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys

from app.common import EXIT_BAD_INPUT, EXIT_OK, fail
from engine.errors import MinutesError


def add_parser(sub) -> None:
    t = sub.add_parser("train", help="fine-tune the recognizer on a manifest and register the result")
    t.add_argument("--train", required=True, metavar="T.jsonl", help="training manifest (minutes data import)")
    t.add_argument("--dev", required=True, metavar="D.jsonl", help="dev manifest: scored before and after")
    t.add_argument("--name", required=True, help="the new model's name, for --model NAME")
    t.add_argument("--preset", choices=["quick", "standard", "thorough"], default=None, help="default: quick")
    t.add_argument("--config", metavar="FILE", default=None, help="a TOML file: [train] values, [augment.*] tables")
    t.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="one training setting, e.g. steps=50"
    )
    t.add_argument("--terms", default=None, help="terms to watch, 'Kestrova; dapagliflozin'")
    t.add_argument(
        "--general",
        default=None,
        metavar="TSV",
        help="the forgetting check's clips (default: asr_en.tsv if present; 'none': skip)",
    )
    t.add_argument("--resume", action="store_true", help="continue the run of this name from its last checkpoint")
    t.add_argument("--json", action="store_true", help="the scores as one JSON object on stdout")
    e = sub.add_parser("evaluate", help="WER and term recall of a model on a manifest")
    e.add_argument("--model", default="base", help="'base' (packaged), a registered model name or a model folder")
    e.add_argument("--data", required=True, metavar="D.jsonl", help="a manifest (minutes data import makes one)")
    e.add_argument("--terms", default=None, help="terms to watch, 'Kestrova; dapagliflozin'")
    e.add_argument("--language", default=None, help="language code (default: each clip's, else detected)")
    e.add_argument("--beam-size", type=int, default=5)
    e.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    e.add_argument("--precision", choices=["auto", "fp32", "fp16", "int8"], default="auto")
    e.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    e.add_argument("--worst", type=int, default=5, help="list this many worst utterances (default 5)")
    e.add_argument("--json", action="store_true", help="one JSON object on stdout")


def evaluate_command(args: argparse.Namespace) -> int:
    from engine.recognizer import RecognizerSpec
    from engine.scoring import parse_terms
    from engine.training.evaluate import EvalOptions, evaluate
    from engine.training.manifest import ManifestError, read_manifest

    try:
        manifest = read_manifest(args.data)
        if not manifest.utterances:
            raise ManifestError(f"'{args.data}' holds no utterances: nothing to evaluate.")
        if args.beam_size < 1:
            raise MinutesError("--beam-size must be at least 1.")
        model = None if args.model in ("", "base") else args.model
        recognizer = RecognizerSpec(model, args.device, args.precision, args.threads).load()
        terms = parse_terms(args.terms) if args.terms else []
        options = EvalOptions(language=args.language, beam_size=args.beam_size)
        quiet = args.json or not sys.stderr.isatty()
        progress = None if quiet else _progress
        report = evaluate(recognizer, manifest.utterances, terms, options, progress)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return EXIT_OK
    _print(report, args.worst)
    return EXIT_OK


def train_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.errors import Cancelled
    from engine.scoring import parse_terms
    from engine.training.config import load_config
    from engine.training.evaluate import DEFAULT_GENERAL
    from engine.training.finetune import FinetuneJob, load_augment, run_finetune

    try:
        overrides = dict(_setting(x) for x in args.set)
        config = load_config(args.config, args.preset, overrides)
        general = None if (args.general or "").lower() == "none" else Path(args.general or DEFAULT_GENERAL)
        if args.general is None and not general.is_file():
            general = None  # no shared data here: no forgetting check unless asked for
        job = FinetuneJob(
            Path(args.train), Path(args.dev), args.name, config, load_augment(args.config),
            tuple(parse_terms(args.terms)) if args.terms else (), general, args.resume,
        )  # fmt: skip
        bar = _TrainBar(quiet=args.json)
        result = run_finetune(job, bar)
    except Cancelled:
        print("\nminutes: training cancelled; `minutes train ... --resume` continues it.", file=sys.stderr)
        return 130
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    finally:
        if "bar" in locals():
            bar.close()
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False))
        return EXIT_OK
    before, after = result.scores["before"], result.scores["after"]
    print(f"model '{result.name}' registered ({result.steps} steps, {result.train_seconds / 60:.1f} min of training)")
    print(f"dev       {_percent(before['dev']['rate'])} -> {_percent(after['dev']['rate'])}")
    if before["dev"].get("term_recall") is not None:
        print(f"terms     {_percent(before['dev']['term_recall'])} -> {_percent(after['dev']['term_recall'])} found")
    if "general" in before:
        print(f"general   {_percent(before['general']['rate'])} -> {_percent(after['general']['rate'])}")
    print(f"use it:   minutes transcribe --model '{result.name}' FILE")
    return EXIT_OK


def _setting(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise MinutesError(f"--set wants KEY=VALUE, not '{text}'.")
    return key.strip(), value.strip()


class _TrainBar:
    """The terminal's view of the run: stage lines, and a tqdm bar over the optimizer steps."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None

    def __call__(self, event: dict) -> None:
        if self.quiet:
            return
        kind = event["type"]
        if kind == "stage":
            self.close()
            print(f"minutes: {event['message']}", file=sys.stderr)
        elif kind == "step" and event.get("total_steps"):
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=event["total_steps"], desc="training", unit="step", file=sys.stderr)
            self.bar.n = event["step"]
            post = {"loss": f"{event['loss']:.3f}"} if event.get("loss") is not None else {}
            if event.get("dev_wer") is not None:
                post["dev"] = _percent(event["dev_wer"])
            self.bar.set_postfix(post, refresh=True)
        elif kind == "eval" and event.get("dev_wer") is not None:
            self.write(f"dev at step {event['step']}: {_percent(event['dev_wer'])}")

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(f"minutes: {text}", file=sys.stderr)
        else:
            print(f"minutes: {text}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(done: int, total: int) -> None:
    print(f"\rminutes: {done}/{total} clips", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _print(report, worst: int) -> None:
    d = report.to_dict()
    print(f"model      {d['model']}")
    print(f"utterances {d['utterances']}")
    if d["wer"] is not None:
        print(f"WER        {_percent(d['wer'])}")
    if d["cer"] is not None:
        print(f"CER        {_percent(d['cer'])}")
    if report.terms:
        print(f"terms      {_percent(d['term_recall'])} found")
        for t in report.terms:
            print(f"  {t.term}: {t.found}/{t.expected}" if t.expected else f"  {t.term}: not in the references")
    for i in report.worst(worst):
        u = d["per_utterance"][i]
        print(f"\n{u['audio']} ({u['errors']} errors)\n  ref: {u['reference']}\n  hyp: {u['hypothesis']}")
