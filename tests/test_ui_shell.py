"""The window's shell: drops, the file queue model, the live transcript, settings (offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtTest import QAbstractItemModelTester  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_recordings_dropped_anywhere_on_the_window_reach_the_queue(qtbot, tmp_path):
    from ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    files = [tmp_path / "call one.wav", tmp_path / "会议.m4a"]
    for f in files:
        f.write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.files_dropped) as got:
        drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(window, drop)
    assert got.args[0] == [str(f) for f in files]  # non-ASCII names come through intact

    text = QMimeData()
    text.setText("not a file")
    refused = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_queue_model_shows_states_progress_and_errors(qtbot):
    from ui.files.queue_model import DONE, ERROR, RUNNING, JobQueueModel, JobRow, ProgressRole
    from ui.files.view import FilesView

    model = JobQueueModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    view = FilesView(model)
    qtbot.addWidget(view)
    assert view.stack.currentWidget() is view.empty  # an empty queue says what to do
    model.add(JobRow("a", "/x/a.wav"))
    model.add(JobRow("b", "/x/b.mp3"))
    assert view.stack.currentWidget() is view.table
    model.update("a", state=RUNNING, stage="Transcribing", fraction=0.5, started=0.0)
    model.update("b", state=ERROR, message="The file is damaged: no audio stream.")
    assert model.index(0, model.STATUS).data() == "Transcribing"
    assert model.index(0, model.PROGRESS).data(ProgressRole) == 0.5
    assert "damaged" in model.index(1, model.STATUS).data()
    model.update("a", state=DONE)
    assert model.index(0, model.PROGRESS).data() == "100 %"
    view.table.selectRow(1)
    assert view.retry_button.isEnabled() and not view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.retry_requested) as got:
        view.retry_button.click()
    assert got.args == ["b"]
    model.remove("b")
    assert model.rowCount() == 1


def test_live_view_shows_confirmed_lines_a_grey_guess_and_speakers(qtbot):
    from engine.speaker_colors import speaker_color
    from ui.live.view import PAUSED, RECORDING, LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.set_devices(["Built-in Microphone"], ["Monitor of Built-in Audio"], mic="USB Headset")
    assert "not connected" in view.microphone.currentText()  # remembered by name, shown when absent
    view.set_state(RECORDING)
    view.show_confirmed(0, "Let's start with the budget.")
    view.set_speaker(0, "S1", "Anya")
    view.finish_segment(0, "Let's start with the budget.")
    view.show_confirmed(1, "We are over")
    view.set_speaker(1, "S2")
    view.show_partial("by ten percent")
    view._render()
    assert view.plain_text() == "Anya: Let's start with the budget.\nSpeaker 2: We are over by ten percent"
    assert speaker_color("S1") in view.text.toHtml().upper().replace("#", "")
    view.set_state(PAUSED)
    assert view.pause_button.text() == "Resume" and not view.start_button.isEnabled()
    before = view.elapsed_seconds()
    qtbot.wait(300)
    assert view.elapsed_seconds() == before  # the clock stops while paused


def test_settings_round_trip_and_damaged_values_fall_back(tmp_path):
    from app.settings import Preferences, Settings

    path = str(tmp_path / "minutes.ini")
    store = Settings(path)
    prefs = Preferences(theme="dark", speakers=3, auto_export=True, export_formats="docx,vtt", input_device="USB")
    store.save(prefs)
    assert Settings(path).load() == prefs
    (tmp_path / "minutes.ini").write_text("[General]\nspeakers=lots\nfont_size=400\ntheme=dark\n")
    loaded = Settings(path).load()
    assert loaded.speakers == 0 and loaded.font_size == 32 and loaded.theme == "dark"


def test_window_modules_do_not_import_torch_or_onnxruntime():
    code = (
        "import sys, ui.main_window, ui.files.view, ui.live.view, ui.settings.view, ui.training.view, app.settings\n"
        "bad = [m for m in ('torch', 'onnxruntime') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60, env=env)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_switch_changes_the_palette(qtbot, theme):
    from ui import theme as themes

    app = QApplication.instance()
    themes.apply(app, theme)
    assert themes.is_dark() == (theme == "dark")
    themes.apply(app, "system")


def test_training_view_says_plainly_when_training_cannot_run(qtbot):
    """The runtime installer has no torch: the Training tab says what to install instead."""
    from ui.training.view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    assert view.tabs.isEnabled() and view.unavailable.isHidden()
    view.set_unavailable()
    assert not view.tabs.isEnabled() and not view.unavailable.isHidden()
    assert "full variant" in view.unavailable.text()
