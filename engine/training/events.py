"""The trainer's events: a JSONL log the Training tab tails, and an optional callback.

One JSON object a line, flushed as it is written, so a reader polling the file never waits
for a buffer and sees at most one partial last line (which it skips). Every event has the
same fields (None when not known yet), so a reader needs no per-type parsing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# "stage" and "result": the fine-tune run around the training (scoring before, export, after)
EVENT_TYPES = ("start", "step", "eval", "checkpoint", "done", "error", "cancelled", "stage", "result")
FIELDS = ("step", "total_steps", "epoch", "loss", "lr", "dev_wer", "elapsed_s", "eta_s", "message")
EVENTS_FILE = "events.jsonl"

EventCallback = Callable[[dict[str, Any]], None]


class EventLog:
    """``emit(type, **fields)`` appends one line to ``path`` (if any) and calls ``callback`` (if any)."""

    def __init__(self, path: Path | None, callback: EventCallback | None = None, append: bool = False):
        self.callback = callback
        self.file = open(path, "a" if append else "w", encoding="utf-8") if path is not None else None  # noqa: SIM115

    def emit(self, type: str, **fields: Any) -> dict[str, Any]:
        assert type in EVENT_TYPES, type
        event: dict[str, Any] = {"type": type, "time": round(time.time(), 3)}
        event.update({k: None for k in FIELDS})
        event.update(fields)
        if self.file is not None:
            self.file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self.file.flush()
        if self.callback is not None:
            self.callback(event)
        return event

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
