"""The Training tab's child process: the same fine-tune as `minutes train`, cancellable by SIGTERM.

The window starts ``python -m app.training_child --train T --dev D --name N [--config C]
[--terms ...] [--resume]``. Everything the window shows comes from the run's JSONL event log; a
SIGTERM sets the trainer's cancel, so it saves a checkpoint and logs "cancelled" before it exits
(exit 130), and ``--resume`` continues from there, even after the window was closed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from engine.errors import Cancelled, MinutesError
    from engine.scoring import parse_terms
    from engine.training.config import load_config
    from engine.training.finetune import FinetuneJob, load_augment, run_finetune

    p = argparse.ArgumentParser(prog="minutes-training-child")
    p.add_argument("--train", required=True)
    p.add_argument("--dev", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--config", default=None)
    p.add_argument("--terms", default=None)
    p.add_argument("--general", default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--result", default=None, help="where the summary JSON goes")
    args = p.parse_args(argv)
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    try:
        config = load_config(args.config, None, {})
        job = FinetuneJob(
            Path(args.train), Path(args.dev), args.name, config, load_augment(args.config),
            tuple(parse_terms(args.terms)) if args.terms else (),
            Path(args.general) if args.general else None, args.resume,
        )  # fmt: skip
        result = run_finetune(job, None, cancel)
    except Cancelled:
        return 130
    except MinutesError as e:
        print(f"minutes: error: {e}", file=sys.stderr)
        return 2
    if args.result:
        Path(args.result).write_text(json.dumps(result.summary(), ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
