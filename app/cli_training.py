"""`minutes evaluate`: how well a model (the packaged one or a fine-tuned one) reads a set of clips.

The numbers are the ones a fine-tune is judged by: WER (CER for Chinese/Japanese) with Whisper's
normaliser, and how often each listed term (a colleague's name, a drug) comes out exactly.
With ``--json`` one object on stdout, for scripts and the Training tab.
"""

from __future__ import annotations

import argparse
import json
import sys

from app.common import EXIT_BAD_INPUT, EXIT_OK, fail
from engine.errors import MinutesError


def add_parser(sub) -> None:
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
