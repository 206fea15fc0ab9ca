"""An audio file played through the live path as if it were a microphone.

Tests and benchmarks (``minutes live --from-file``) need the real live session on known
audio, at real-time pace or as fast as it keeps up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.audio import SAMPLE_RATE
from engine.errors import MinutesError


class FileSource:
    """Feeds an audio file through the live path as a microphone would: blocks of
    ``block_seconds``, each delivered when it would have been fully captured (``realtime``),
    or as fast as the session takes them (``busy()`` says when to wait)."""

    def __init__(
        self,
        path: str | Path,
        on_audio: Callable[[np.ndarray], None],
        on_status: Callable[[str, str], None] | None = None,
        realtime: bool = True,
        block_seconds: float = 0.1,
        busy: Callable[[], bool] | None = None,
        loops: int = 1,
    ) -> None:
        from engine.audio.decode import probe

        self.path = Path(path)
        self.meta = probe(self.path)  # AudioError now, not in the thread
        self.on_audio = on_audio
        self.on_status = on_status or (lambda state, message: None)
        self.realtime = realtime
        self.block_seconds = block_seconds
        self.busy = busy or (lambda: False)
        self.loops = max(1, loops)
        self.level = 0.0
        self.peak = 0.0
        self.frames_in = 0
        self.start_wall = 0.0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused = threading.Event()
        self._paused_at = 0.0
        self._gate = threading.RLock()  # held while a block is delivered: pause() waits for it

    def start(self, start_wall: float | None = None) -> None:
        self.start_wall = start_wall or time.time()
        self._thread = threading.Thread(target=self._run, name="minutes-file-source", daemon=True)
        self._thread.start()
        self.on_status("capturing", f"Reading {self.path.name}{' in real time' if self.realtime else ''}.")

    def pause(self) -> None:
        """Deliver nothing more until :meth:`resume` (the file waits where it is, its pace too);
        returns once no block is being delivered."""
        with self._gate:
            if not self._paused.is_set():
                self._paused_at = time.time()
                self._paused.set()

    def resume(self) -> None:
        with self._gate:
            if self._paused.is_set():
                self.start_wall += time.time() - self._paused_at  # real-time pace goes on from here
                self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.on_status("stopped", "Input stopped.")

    def _run(self) -> None:
        from engine.audio.decode import stream_audio

        try:
            for _ in range(self.loops):
                for big in stream_audio(self.path, block_seconds=10.0):
                    step = int(self.block_seconds * SAMPLE_RATE)
                    for i in range(0, big.size, step):
                        if self._stop.is_set():
                            return
                        self._deliver(big[i : i + step])
        except MinutesError as e:
            self.on_status("lost", str(e))
        finally:
            self.done.set()

    def _deliver(self, block: np.ndarray) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(0.05)
                continue
            if self.realtime:
                wait = self.start_wall + (self.frames_in + block.size) / SAMPLE_RATE - time.time()
                if wait > 0:
                    self._stop.wait(min(wait, 0.05))  # short steps: a pause meanwhile holds the block
                    continue
            elif self.busy():
                time.sleep(0.01)
                continue
            with self._gate:
                if self._paused.is_set():
                    continue
                self.level = float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if block.size else 0.0
                self.peak = float(np.max(np.abs(block))) if block.size else 0.0
                self.frames_in += block.size
                self.on_audio(block)
            return
