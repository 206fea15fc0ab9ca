"""The JSON-lines event log of a live session (``minutes live --events``).

A subscriber like any other, so the log shows exactly what a window would have been sent.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from engine.errors import MinutesError
from engine.live.events import LiveEvent


class EventLog:
    """A subscriber writing every event as one JSON line (flushed per line, so it can be tailed)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.f = open(self.path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise MinutesError(f"Cannot write the event log '{path}': {e.strerror or e}.") from e
        self._lock = threading.Lock()

    def __call__(self, event: LiveEvent) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False)
        with self._lock:
            if not self.f.closed:
                self.f.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self.f.close()
