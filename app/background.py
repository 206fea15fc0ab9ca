"""Short jobs off the GUI thread (saving a meeting, writing an export), answered in the GUI thread.

``Background.run(fn, done, failed)`` runs ``fn`` on Qt's thread pool; its result or exception
comes back through a signal to a slot of an object that lives in the GUI thread, so ``done`` and
``failed`` may touch widgets. (A lambda connected to a pool thread's signal would run in that
thread.) Long engine work does not belong here: file jobs run in a child process.
"""

from __future__ import annotations

import itertools
import logging
import threading
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


class WorkerEvents(QObject):
    """Events of a child process, in the GUI thread: ``arrived(worker, event)``."""

    arrived = Signal(object, object)


class EventPump(threading.Thread):
    """Waits on one child's events (``worker.next_event(timeout)``) and hands each to ``relay``.

    Ends after an event for which ``last(event)`` holds, when ``idle_end()`` holds while no
    event comes, when the queue breaks (``broken()`` may give one last event to hand over),
    or when ``stopping`` is set."""

    def __init__(
        self,
        worker: Any,
        relay: WorkerEvents,
        last: Callable[[Any], bool],
        idle_end: Callable[[], bool],
        broken: Callable[[], Any] | None = None,
        name: str = "minutes-events",
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.worker, self.relay = worker, relay
        self.last, self.idle_end, self.broken = last, idle_end, broken
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                event = self.worker.next_event(0.5)
            except (EOFError, OSError):  # the queue's pipe broke with the child
                event = self.broken() if self.broken is not None else None
                if event is not None:
                    self.relay.arrived.emit(self.worker, event)
                return
            if event is None:
                if self.idle_end():
                    return
                continue
            self.relay.arrived.emit(self.worker, event)
            if self.last(event):
                return
