"""Short jobs off the GUI thread (saving a meeting, writing an export), answered in the GUI thread.

``Background.run(fn, done, failed)`` runs ``fn`` on Qt's thread pool; its result or exception
comes back through a signal to a slot of an object that lives in the GUI thread, so ``done`` and
``failed`` may touch widgets. (A lambda connected to a pool thread's signal would run in that
thread.) Long engine work does not belong here: file jobs run in a child process.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("minutes.gui")


class _Relay(QObject):
    finished = Signal(int, object, object)  # token, result, exception (or None)


class _Task(QRunnable):
    def __init__(self, token: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.token, self.fn, self.relay = token, fn, relay

    def run(self) -> None:  # a pool thread
        try:
            result, error = self.fn(), None
        except Exception as e:  # noqa: BLE001 - reported to the GUI thread, which shows it
            log.debug("background task failed", exc_info=True)
            result, error = None, e
        self.relay.finished.emit(self.token, result, error)


class Background(QObject):
    """Create in the GUI thread; ``run`` from the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._pending: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._tokens = itertools.count(1)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        token = next(self._tokens)
        self._pending[token] = (done, failed)
        self.pool.start(_Task(token, fn, self._relay))

    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, ms: int = 30000) -> bool:
        """Block until every task ended (closing the window: nothing half-written)."""
        return self.pool.waitForDone(ms)

    @Slot(int, object, object)
    def _finished(self, token: int, result: Any, error: Exception | None) -> None:
        done, failed = self._pending.pop(token, (None, None))
        if error is None:
            if done is not None:
                done(result)
        elif failed is not None:
            failed(error)
        else:
            log.error("Background task failed: %s", error)
