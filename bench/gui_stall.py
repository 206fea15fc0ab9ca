"""Does the window stay responsive while the engine works? The longest event-loop stall.

A 10 ms precise timer in the GUI thread records the gap between its ticks while the real window
(app.window.App, offscreen) runs a file job (a dropped recording, transcribed in the child
process, saved in the Library, opened in the editor) and a live session (fed from a file at
real-time pace, events drawn in the Live view, stopped, saved, opened) and a fine-tune from the
Training tab (a manifest of real clips, the packaged model trained a few steps in the training
child, evaluated before/after, listed for export). A gap much above 10 ms is time the window could
not repaint or take a key press.

    .venv/bin/python bench/gui_stall.py [--file PATH] [--live PATH] [--live-seconds 60]
        [--train-steps 4] [--phases file,live,train] [--why]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"


class StallMeter:
    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000)
        self.last = now

    def watch(self) -> None:
        """A thread that prints where the GUI thread is when a tick is 40 ms late (--why)."""
        import threading
        import traceback

        main_id = threading.main_thread().ident

        def run() -> None:
            reported = 0.0
            while True:
                time.sleep(0.005)
                late = time.perf_counter() - self.last
                if self.active and late > 0.05 and self.last != reported:
                    reported = self.last
                    names = {t.ident: t.name for t in threading.enumerate()}
                    out = [f"--- GUI thread {late * 1000:.0f} ms late:"]
                    for ident, frame in sys._current_frames().items():
                        if ident == threading.get_ident():
                            continue
                        who = "GUI" if ident == main_id else names.get(ident, ident)
                        out.append(f"[{who}]\n" + "".join(traceback.format_stack(frame, limit=6)))
                    print("\n".join(out), file=sys.stderr)

        threading.Thread(target=run, daemon=True).start()

    active = False

    def start(self) -> None:
        self.active = True
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.active = False
        self.timer.stop()
        g = sorted(self.gaps) or [0.0]
        return {
            "ticks": len(g),
            "max_ms": g[-1],
            "p99_ms": g[min(len(g) - 1, int(0.99 * len(g)))],
            "median_ms": statistics.median(g),
            "over_50ms": sum(1 for x in g if x > 50),
        }


def wait(qapp, until, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        qapp.processEvents()
        if until():
            return True
        time.sleep(0.002)
    return False


def _own_data_folder(home: Path) -> None:
    """A data folder of its own that shares the prepared models (no export again)."""
    from engine.paths import data_dir

    models = data_dir() / "models"
    (home / "models").mkdir(parents=True)
    for entry in models.iterdir() if models.is_dir() else ():
        (home / "models" / entry.name).symlink_to(entry)
    os.environ["MINUTES_DATA_DIR"] = str(home)


def _fine_tune(qapp, app, meter: StallMeter, root: Path, steps: int) -> dict:
    import soundfile as sf

    from engine.training.manifest import Utterance, write_manifest

    utts = []
    for line in (DATA / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:8]:
        rel, text = line.split("\t", 1)
        utts.append(Utterance(DATA / rel, text, round(sf.info(DATA / rel).duration, 3), "en"))
    view = app.training_view
    app.window.show_view("training")
    view.data.request(str(write_manifest(root / "clips.jsonl", utts)))
    wait(qapp, lambda: bool(view.data.reports), 120)
    assert view.data.utterances(), view.data.status.text()
    view.settings.steps.setValue(steps)
    view.settings.batch.setValue(30)  # seconds of audio per step
    view.settings.extra = {"warmup_steps": 1, "eval_every": 0, "checkpoint_every": 2, "threads": 2}
    view.settings._refresh()
    meter.start()
    t = time.perf_counter()
    view.train.name.setText("stall-bench")
    view.train.start.click()
    wait(qapp, lambda: not app.training.busy(), 1800)
    wait(qapp, lambda: view.export.models.count() >= 1, 60)
    return meter.stop() | {"seconds": time.perf_counter() - t, "state": view.train.stage.text()[:60]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", default=str(DATA / "longform" / "ami_debug_concat_7min.wav"))
    p.add_argument("--live", default=str(DATA / "longform" / "ami_debug_concat_7min.wav"))
    p.add_argument("--live-seconds", type=float, default=60.0)
    p.add_argument("--train-steps", type=int, default=4, help="steps of the Training tab's run")
    p.add_argument("--phases", default="file,live,train", help="which of file,live,train to run")
    p.add_argument("--why", action="store_true", help="print the GUI thread's stack during each stall")
    args = p.parse_args()

    from PySide6.QtWidgets import QApplication

    from app.settings import Preferences, Settings
    from app.window import App
    from ui.files.queue_model import FINISHED
    from ui.live.view import IDLE, RECORDING

    qapp = QApplication.instance() or QApplication([sys.argv[0]])
    root = Path(tempfile.mkdtemp(prefix="minutes-stall-"))
    _own_data_folder(root / "home")  # the fine-tune's run and registry entry stay in the temp folder
    ini = str(root / "settings.ini")
    Settings(ini).save(Preferences(data_folder=str(root / "data"), language="en"))
    t0 = time.perf_counter()
    app = App(qapp, settings_path=ini, recovery=False)
    app.window.show()
    qapp.processEvents()
    print(f"window shown in {time.perf_counter() - t0:.2f} s (App built and shown; Python start not included)")
    from app.window import PRELOADED

    # a user drops a file a second or more after the window shows; by then the engine modules are
    # imported (in a thread); a drop before that waits for them (one 50-120 ms stall, measured)
    wait(qapp, PRELOADED.is_set, 30)
    meter = StallMeter()
    if args.why:
        meter.watch()
    results = {}

    if "file" in args.phases:
        # -- a file job, from the drop to the transcript open in the editor
        meter.start()
        t = time.perf_counter()
        app.add_files([args.file])
        row = app.files_model.rows[-1]
        wait(qapp, lambda: app.files_model.get(row.job_id).state in FINISHED, 1800)
        wait(qapp, lambda: app.window.current_view() == "transcript", 60)
        results["file job"] = meter.stop() | {"seconds": time.perf_counter() - t, "state": row.state}

        # -- scroll the opened transcript (the editor's delegate paints every row it shows)
        meter.start()
        view = app.editor.view
        for _ in range(200):
            view.verticalScrollBar().setValue(view.verticalScrollBar().value() + 40)
            qapp.processEvents()
        rows = f"{view.model().rowCount()} rows"
        results["scrolling the transcript"] = meter.stop() | {"seconds": 0.0, "state": rows}

    if "live" in args.phases:
        # -- a live session
        app.window.show_view("live")
        wait(qapp, lambda: app.live.ready, 120)
        meter.start()
        t = time.perf_counter()
        app.live.start("", "", "", from_file=args.live)
        wait(qapp, lambda: app.live.state == RECORDING, 120)
        wait(qapp, lambda: False, args.live_seconds)
        app.live.stop()
        wait(qapp, lambda: app.live.state == IDLE, 600)
        results["live session"] = meter.stop() | {"seconds": time.perf_counter() - t, "state": "stopped"}

    # -- a fine-tune from the Training tab, through its evaluation and the export list
    if "train" in args.phases:
        results["fine-tune in the Training tab"] = _fine_tune(qapp, app, meter, root, args.train_steps)

    app.shutdown()
    print()
    print("| while | ticks | longest gap | p99 | median | gaps > 50 ms | wall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for what, r in results.items():
        print(
            f"| {what} ({r['state']}) | {r['ticks']} | {r['max_ms']:.0f} ms | {r['p99_ms']:.0f} ms | "
            f"{r['median_ms']:.1f} ms | {r['over_50ms']} | {r['seconds']:.0f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
