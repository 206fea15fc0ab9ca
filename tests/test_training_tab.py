"""The Training tab end to end (offscreen), on real clips with a tiny configuration: data in (one
bad row reported and left out), a real run of the packaged model in the child process, cancelled
mid-run and resumed from its checkpoint, the before/after table, the model activated and then used
by a file job in the same window. The window's longest event-loop stall during the run is measured.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SUITE_DATA = Path(os.environ["MINUTES_DATA_DIR"])
RUN_TIMEOUT_MS = 900_000


class StallMeter:
    """A 10 ms timer in the GUI thread: the longest gap between its ticks is the longest stall.

    A guard against work done in the GUI thread (a join, a model load, a checkpoint read): each
    freezes the window for half a second or more. The 100 ms goal is a benchmark's
    (bench/gui_stall.py): here, on a busy 2-core VM, 10 ms ticks came 50-130 ms late a few times a
    run with the GUI thread asleep in its event loop's poll (py-spy), no code of ours running."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.where = ""
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.phase = ""

    def _tick(self) -> None:
        now = time.perf_counter()
        if now - self.last - 0.010 > self.longest:
            self.longest, self.where = now - self.last - 0.010, self.phase
        self.last = now

    def start(self, phase: str) -> None:
        self.phase = phase
        self.last = time.perf_counter()
        self.timer.start()

    def pause(self) -> None:
        self.timer.stop()


def wait_for(qtbot, signal, done, timeout: int) -> None:
    """Wait until ``done()`` holds, checking each time ``signal`` fires (no 10 ms polling loop of
    nested event loops, whose own cost showed up in the stall measure)."""
    deadline = time.monotonic() + timeout / 1000
    while not done():
        left = int((deadline - time.monotonic()) * 1000)
        assert left > 0, "timed out"
        with qtbot.waitSignal(signal, timeout=min(left, 2000), raising=False):
            pass


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A user data folder of its own (registry, runs), sharing the suite's model cache."""
    home = tmp_path / "data"
    (home / "models").mkdir(parents=True)
    for cached in ("whisper-base", "ge2e"):
        if (SUITE_DATA / "models" / cached).exists():
            (home / "models" / cached).symlink_to(SUITE_DATA / "models" / cached)
    monkeypatch.setenv("MINUTES_DATA_DIR", str(home))
    return home


@pytest.fixture
def app(qapp, home, tmp_path, data_dir):
    from app.settings import Preferences, Settings
    from app.window import App

    ini = str(tmp_path / "settings.ini")
    Settings(ini).save(Preferences(data_folder=str(tmp_path / "library"), threads=2, language="en"))
    a = App(qapp, settings_path=ini, recovery=False)
    a.errors = []
    a.show_error = a.errors.append  # an unexpected error fails the test instead of a modal box
    a.window.show()
    yield a
    a.shutdown()
    a.window.really_close()


def _manifest_with_a_bad_row(data_dir: Path, tmp_path: Path) -> Path:
    import soundfile as sf

    from engine.training.manifest import Utterance, write_manifest

    utts = []
    for line in (data_dir / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:6]:
        rel, text = line.split("\t", 1)
        utts.append(Utterance(data_dir / rel, text, round(sf.info(data_dir / rel).duration, 3), "en"))
    utts.insert(3, Utterance(tmp_path / "gone.wav", "a clip that was deleted", 2.0, "en"))
    return write_manifest(tmp_path / "mine.jsonl", utts)


def test_the_wizard_trains_cancels_resumes_and_the_model_transcribes(app, qtbot, data_dir, tmp_path, home):
    from ui.files.queue_model import DONE, FINISHED

    view = app.training_view
    app.window.show_view("training")
    # 1. data: one bad row reported with what to do, left out with one click
    view.data.request(str(_manifest_with_a_bad_row(data_dir, tmp_path)))
    qtbot.waitUntil(lambda: len(view.data.reports) == 1, timeout=60_000)
    assert view.data.problems.rowCount() == 1
    assert view.data.problems.item(0, 0).text() == "4"  # the line of the missing clip
    assert "gone.wav" in view.data.problems.item(0, 1).text() or "exist" in view.data.problems.item(0, 1).text()
    assert view.data.ready()  # not trainable with a bad row in
    view.data.exclude.click()
    assert view.data.problems.rowCount() == 0 and not view.data.ready()
    assert view.data.totals.text().startswith("6 utterances")
    split = view.data.split()
    assert len(split.train) + len(split.dev) == 6 and split.dev
    word = split.dev[0].text.split()[1].strip(",.")
    view.data.terms.setText(word)
    # 2-3. augmentation off, a tiny configuration; the config file shows it
    view.augment.set_all(False)
    view.settings.steps.setValue(3)
    view.settings.batch.setValue(30)
    view.settings.lr.setValue(1e-5)
    view.settings.extra = {"warmup_steps": 1, "eval_every": 0, "checkpoint_every": 1, "threads": 2}
    view.settings._refresh()
    assert "steps = 3" in view.settings.config_text.toPlainText()
    assert "[augment.noise]\nenabled = false" in view.settings.config_text.toPlainText()

    # 4. train, cancel after the first checkpoint
    meter = StallMeter()
    meter.start("training")
    started = time.perf_counter()
    view.train.name.setText("team-wizard")
    view.train.start.click()
    assert app.training.busy() and view.train.cancel.isEnabled()
    run = home / "training" / "team-wizard"

    def checkpointed() -> bool:
        return "checkpoint:" in view.train.log.toPlainText()

    wait_for(qtbot, app.training.controller.event, lambda: checkpointed() or bool(app.errors), RUN_TIMEOUT_MS)
    assert not app.errors
    meter.phase = "cancelling"
    view.train.cancel.click()
    wait_for(qtbot, app.training.controller.running_changed, lambda: not app.training.busy(), 120_000)
    meter.pause()  # what follows until the resume is the test's own scan in the GUI thread
    assert "Resume" in view.train.stage.text() and view.train.resume.isEnabled()
    assert (run / "checkpoint.pt").exists()
    stopped_at = view.train.progress.value()
    assert 1 <= stopped_at < 3

    # what the next start of the window finds on disk: this run, offered for resuming
    from app.training_tab import _resumable

    view.train.name.setText("")
    app.training.controller.name = ""
    app.training._offer_resume(_resumable())
    assert view.train.name.text() == "team-wizard" and "team-wizard" in view.train.stage.text()
    assert view.train.resume.isEnabled()
    # resume: continues from the checkpoint, not from step 0
    meter.start("resumed run")
    view.train.resume.click()
    wait_for(qtbot, app.training.controller.running_changed, lambda: not app.training.busy(), RUN_TIMEOUT_MS)
    run_s = time.perf_counter() - started
    assert not app.errors
    meter.timer.stop()
    log_text = view.train.log.toPlainText()
    assert f"resumed at step {stopped_at}" in log_text, log_text[-2000:]
    assert "Finished" in view.train.stage.text(), view.train.stage.text() + log_text[-2000:]
    assert view.train.progress.value() == 3
    assert len(view.train.plot.loss) >= 3
    events = [json.loads(x) for x in (run / "events.jsonl").read_text().splitlines()]
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert steps[-1] == 3 and 0 not in steps

    # 5. evaluate: before and after filled in
    assert app.training_view.tabs.currentWidget() is view.evaluate
    for col in (1, 2):
        assert view.evaluate.table.item(0, col).text().endswith("%")
        assert view.evaluate.table.item(1, col).text().endswith("%")
    assert view.evaluate.worst.rowCount() >= 1

    # 6. export: listed with a summary, activated, Settings' list has it, a file job uses it
    qtbot.waitUntil(lambda: view.export.models.count() == 1, timeout=20_000)
    assert f"3 steps on {len(split.train)} clips" in view.export.summary.text(), view.export.summary.text()
    view.export.activate.click()
    qtbot.waitUntil(
        lambda: "team-wizard" in [app.settings_view.model.itemData(i) for i in range(app.settings_view.model.count())],
        timeout=20_000,
    )
    assert app.settings_view.model.currentData() == "team-wizard"
    jfk = REPO / "resources" / "demo" / "jfk.wav"
    app.add_files([str(jfk)])
    row = next(r for r in reversed(app.files_model.rows) if r.path == str(jfk))
    qtbot.waitUntil(lambda: app.files_model.get(row.job_id).state in FINISHED, timeout=300_000)
    assert app.files_model.get(row.job_id).state == DONE, app.files_model.get(row.job_id).message
    meeting = app.library.list()[0]
    used = json.loads(meeting.transcript_path.read_text(encoding="utf-8"))
    assert used["model"]["name"] == "team-wizard", used["model"]
    assert "country" in " ".join(s["text"] for s in used["segments"]).lower()
    print(f"\ntraining tab: run {run_s:.0f} s, longest event-loop stall {1000 * meter.longest:.0f} ms ({meter.where})")
    assert meter.longest < 0.500, f"the window froze for {1000 * meter.longest:.0f} ms ({meter.where})"


def test_bad_sources_are_reported_and_nothing_breaks(qtbot, tmp_path, data_dir):
    """A missing folder, a corrupt manifest, an empty TSV: each gets a clear line; the page lives."""
    from app.training_data import load_source
    from engine.errors import MinutesError
    from ui.training.view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    with pytest.raises(MinutesError) as missing:
        load_source(str(tmp_path / "no-such-folder"))
    view.data.source_failed(str(tmp_path / "no-such-folder"), str(missing.value))
    assert "cannot be used" in view.data.status.text() and "does not exist" in view.data.status.text()

    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_bytes(b'{"audio_filepath": "a.wav", "text": "hi"\n\xff\xfe not json\n')
    view.data.add_report(load_source(str(corrupt)))
    assert view.data.problems.rowCount() >= 2  # both lines, each with what to do
    assert all(view.data.problems.item(r, 2).text() for r in range(view.data.problems.rowCount()))
    assert view.data.ready()  # nothing trainable: the Train page says why instead of starting
    view.data.exclude.click()
    assert view.data.ready() == "Add at least two utterances."
    assert "needs at least two" in view.data.split_label.text()
