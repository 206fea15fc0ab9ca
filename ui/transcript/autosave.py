"""Autosave: debounced, serialised and written off the GUI thread, atomically.

``schedule()`` after every edit restarts a 2 s timer; when it fires, the GUI thread takes a
shallow snapshot of the transcript (``edits.snapshot``, a few ms at 5,000 segments) and a
QThreadPool runnable turns it into JSON and writes it next to the target as a temporary file,
fsyncs it and moves it over the target with ``os.replace`` (a crash mid-write leaves the old
file whole). One write at a time; edits made during a write are saved by the next one. A failed
write (full disk, read-only folder) is reported with a sentence for the user; the edits stay in
memory and the next edit, or ``save_now()``, tries again.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from engine.transcript import Transcript

DEBOUNCE_MS = 2000


def write_atomically(path: Path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        try:
            fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass


class JsonRenderer:
    """The transcript JSON, one segment (and turn, chapter, speaker) a line, re-encoding only
    segments that changed since the last render.

    A background thread running Python for a second makes every Python call of the GUI thread
    wait for the GIL (up to the 5 ms switch interval each): encoding all 5,000 segments with
    ``to_json()`` on every autosave made the window stall for the whole second. Each segment's
    JSON comes from the engine's own ``to_dict`` (same fields, same rounding) and is cached by
    its content; word lists are replaced by edits, never changed, so their identity stands for
    them (the cache holds them, so an id cannot be reused while cached). ``Transcript.load``
    reads the result like any transcript JSON.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple[list, str]] = {}
        self._turns_key: tuple | None = None
        self._turns_block = ""

    @staticmethod
    def _key(s) -> tuple:
        return (
            s.start,
            s.end,
            s.speaker,
            s.text,
            id(s.words),
            s.avg_logprob,
            s.compression_ratio,
            s.no_speech_prob,
            s.temperature,
        )

    def render(self, t: Transcript) -> str:
        shell = Transcript(
            audio=t.audio,
            language=t.language,
            model=t.model,
            speakers=t.speakers,
            chapters=t.chapters,
            version=t.version,
        )
        head = shell.to_dict()
        head.pop("segments")
        turns_key = tuple((x.start, x.end, x.speaker) for x in t.turns)
        if turns_key != self._turns_key:
            turns = Transcript(audio=t.audio, language=t.language, model=t.model, turns=t.turns).to_dict()["turns"]
            self._turns_key, self._turns_block = turns_key, None
        else:
            turns = None
        new_cache: dict[tuple, tuple[list, str]] = {}
        frags = []
        for seg in t.segments:
            key = self._key(seg)
            hit = self._cache.get(key) or new_cache.get(key)
            if hit is None:
                one = Transcript(audio=t.audio, language=t.language, model=t.model, segments=[seg])
                hit = (seg.words, json.dumps(one.to_dict()["segments"][0], ensure_ascii=False))
            new_cache[key] = hit
            frags.append(hit[1])
        self._cache = new_cache

        def block(name: str, items: list) -> str:
            if not items:
                return f'  "{name}": []'
            rows = ",\n    ".join(json.dumps(x, ensure_ascii=False) for x in items)
            return f'  "{name}": [\n    {rows}\n  ]'

        parts = [
            f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
            for k, v in head.items()
            if k not in ("speakers", "chapters", "turns")
        ]
        if turns is not None:
            self._turns_block = block("turns", turns)
        parts += [block("speakers", head["speakers"]), block("chapters", head["chapters"]), self._turns_block]
        seg_block = '  "segments": []' if not frags else '  "segments": [\n    ' + ",\n    ".join(frags) + "\n  ]"
        return "{\n" + ",\n".join(parts + [seg_block]) + "\n}\n"


class _Relay(QObject):
    """Lives in the GUI thread; the runnable emits through it (queued to the Autosaver)."""

    done = Signal(int, int, str, int, str, float, float)  # epoch, generation, path, errno (0: ok), detail, times


class _SaveTask(QRunnable):
    def __init__(
        self, relay: _Relay, epoch: int, generation: int, transcript: Transcript, path: str, renderer: JsonRenderer
    ) -> None:
        super().__init__()
        self.relay, self.epoch, self.generation = relay, epoch, generation
        self.transcript, self.path, self.renderer = transcript, path, renderer

    def run(self) -> None:  # a pool thread
        t0 = time.perf_counter()
        try:
            text = self.renderer.render(self.transcript)
        except Exception as e:  # should not happen; never lose the report
            self.relay.done.emit(self.epoch, self.generation, self.path, -1, repr(e), 0.0, 0.0)
            return
        t1 = time.perf_counter()
        try:
            write_atomically(Path(self.path), text)
        except OSError as e:
            self.relay.done.emit(
                self.epoch, self.generation, self.path, e.errno or -1, e.strerror or str(e), t1 - t0, 0.0
            )
            return
        self.relay.done.emit(self.epoch, self.generation, self.path, 0, "", t1 - t0, time.perf_counter() - t1)


class Autosaver(QObject):
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, snapshot: Callable[[], Transcript], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._snapshot = snapshot
        self.path: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.save_now)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._renderer = JsonRenderer()  # used by the one pool thread only (and flush, after it)
        self._relay.done.connect(self._on_done)
        self._epoch = 0  # one per transcript (set_path)
        self._generation = 0  # edits so far
        self._saved_generation = 0
        self._in_flight = False
        self._again = False
        self.last_timings: tuple[float, float, float] | None = None  # snapshot, serialise, write (s)

    @property
    def dirty(self) -> bool:
        return self._generation != self._saved_generation

    @property
    def busy(self) -> bool:
        return self._in_flight or self._timer.isActive()

    def set_path(self, path: str | None) -> None:
        """A new transcript, saved to ``path`` (None: no autosave); it starts clean."""
        self._timer.stop()
        self._epoch += 1
        self.path = path
        self._generation = self._saved_generation = 0
        self._in_flight = self._again = False

    def detach(self) -> None:
        """Before the transcript is replaced: start writing what is unsaved of the old one (the
        write queues behind any in progress; its result still comes as saved/failed)."""
        self._timer.stop()
        if self.path and self.dirty:
            self._start()

    def set_interval(self, ms: int) -> None:
        self._timer.setInterval(ms)

    def schedule(self) -> None:
        """An edit happened: save in ~2 s unless another edit comes first."""
        self._generation += 1
        if self.path:
            self._timer.start()

    @Slot()
    def save_now(self) -> None:
        self._timer.stop()
        if not self.path or not self.dirty:
            return
        if self._in_flight:
            self._again = True
            return
        self._start()

    def _start(self) -> None:
        t0 = time.perf_counter()
        snap = self._snapshot()
        self._snap_s = time.perf_counter() - t0
        self._in_flight = True
        self._pool.start(_SaveTask(self._relay, self._epoch, self._generation, snap, self.path, self._renderer))

    def flush(self, timeout_ms: int = 30000) -> bool:
        """Wait for a write in progress, then write what is unsaved now (closing the editor)."""
        self._timer.stop()
        self._pool.waitForDone(timeout_ms)
        if not self.path or not self.dirty:
            return True
        gen = self._generation
        try:
            write_atomically(Path(self.path), self._renderer.render(self._snapshot()))
        except OSError as e:
            self.failed.emit(self._message(self.path, e.errno or -1, e.strerror or str(e)))
            return False
        self._saved_generation = gen
        self.saved.emit(self.path)
        return True

    @Slot(int, int, str, int, str, float, float)
    def _on_done(self, epoch: int, generation: int, path: str, err: int, detail: str, ser_s: float, write_s: float):
        self.last_timings = (getattr(self, "_snap_s", 0.0), ser_s, write_s)
        if epoch != self._epoch:  # the transcript shown before: report only
            if err:
                self.failed.emit(self._message(path, err, detail))
            else:
                self.saved.emit(path)
            return
        self._in_flight = False
        if err:
            self._again = False
            self.failed.emit(self._message(path, err, detail))
            return
        self._saved_generation = max(self._saved_generation, generation)
        self.saved.emit(path)
        if self._again or (self.dirty and not self._timer.isActive()):
            self._again = False
            self._timer.start()

    def _message(self, path: str, err: int, detail: str) -> str:
        p = Path(path)
        if err == errno.ENOSPC:
            msg = self.tr("The disk is full: the transcript could not be saved to {path}.")
        elif err in (errno.EACCES, errno.EPERM, errno.EROFS):
            msg = self.tr("The folder {folder} cannot be written to (read-only or no permission).")
        elif err == errno.ENOENT:
            msg = self.tr("The folder {folder} does not exist any more.")
        else:
            msg = self.tr("The transcript could not be saved to {path} ({detail}).")
        msg = msg.format(path=str(p), folder=str(p.parent), detail=detail)
        return msg + " " + self.tr("Your edits are kept in the editor; press Ctrl+S to try again.")
