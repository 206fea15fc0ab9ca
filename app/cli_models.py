"""`minutes models`: list, rename and remove the fine-tuned models in the registry (engine/models/registry.py).

A registered model is used by its name: `minutes transcribe --model NAME`, `minutes live --model NAME`.
"""

from __future__ import annotations

import argparse
import json

from app.common import EXIT_BAD_INPUT, EXIT_OK, fail
from engine.errors import MinutesError

COLUMNS = ("name", "base", "precisions", "dev WER before→after", "date", "size")


def add_parser(sub) -> None:
    m = sub.add_parser("models", help="fine-tuned models: list, rename, remove (use one with --model NAME)")
    ms = m.add_subparsers(dest="models_command")
    listing = ms.add_parser("list", help="the registered models, with where each came from")
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")
    ms.add_parser("remove", help="delete a registered model").add_argument("name")
    renaming = ms.add_parser("rename", help="give a registered model another name")
    for arg in ("old", "new"):
        renaming.add_argument(arg)


def models_command(args: argparse.Namespace) -> int:
    from engine.models import registry

    try:
        if args.models_command == "remove":
            registry.remove(args.name)
            print(f"Removed the model '{args.name}'.")
        elif args.models_command == "rename":
            entry = registry.rename(args.old, args.new)
            print(f"Renamed the model '{args.old}' to '{entry.name}'.")
        else:  # "list", or no subcommand
            _list(registry.list_models(), getattr(args, "json", False))
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    return EXIT_OK


def _list(models, as_json: bool) -> None:
    if as_json:
        print(json.dumps([m.to_dict() for m in models], indent=2, ensure_ascii=False))
        return
    if not models:
        print("No fine-tuned models registered. Train one with: minutes train ... --name NAME")
        return
    rows = [COLUMNS] + [
        (
            m.name,
            m.info.base_model or "?",
            ",".join(m.precisions) or "damaged",
            f"{_wer(m.info.dev_wer_before)} → {_wer(m.info.dev_wer_after)}",
            m.info.date.replace("T", " ")[:16] or "?",
            _size(m.size_bytes),
        )
        for m in models
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


def _wer(value: float | None) -> str:
    """WER as a percentage (the registry keeps fractions, as engine.scoring computes them)."""
    return "?" if value is None else f"{100 * value:.1f}%"


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"
