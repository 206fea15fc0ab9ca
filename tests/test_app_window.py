"""The whole window end to end (offscreen), on real audio: drop, transcribe in the child process,
edit, export; bad files; a killed child; a live session; the Library; ``minutes-gui --smoke``.

One App (one warm file child) serves the module, as one window serves a user's day.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtTest import QAbstractItemModelTester  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CALL = "diarization/pyannote_sample/sample.wav"  # two people on the phone, 30 s
JOB_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def app(qapp, tmp_path_factory, data_dir):
    from app.settings import Preferences, Settings
    from app.window import App

    root = tmp_path_factory.mktemp("gui")
    ini = str(root / "settings.ini")
    Settings(ini).save(Preferences(data_folder=str(root / "data"), threads=2, language="en"))
    a = App(qapp, settings_path=ini, recovery=False)
    a.window.show()
    yield a
    a.shutdown()
    a.window.really_close()


def _drop(window, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(40, 40), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(40, 40), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, drop)


def _row_for(app, path: Path):
    return next(r for r in reversed(app.files_model.rows) if r.path == str(path))


def _wait_finished(qtbot, app, path: Path, timeout: int = JOB_TIMEOUT_MS):
    from ui.files.queue_model import FINISHED

    row = _row_for(app, path)
    qtbot.waitUntil(lambda: app.files_model.get(row.job_id).state in FINISHED, timeout=timeout)
    return app.files_model.get(row.job_id)


def test_drop_a_call_then_rename_undo_redo_and_export(app, qtbot, data_dir, tmp_path):
    import docx

    from ui.files.queue_model import DONE

    src = tmp_path / "Réunion d'équipe 会议.wav"  # non-ASCII path
    shutil.copy(data_dir / CALL, src)
    _drop(app.window, [src])
    assert app.window.current_view() == "files"
    row = _wait_finished(qtbot, app, src)
    assert row.state == DONE, row.message
    qtbot.waitUntil(lambda: app.window.current_view() == "transcript", timeout=20_000)
    editor = app.editor
    t = editor.transcript()
    text = t.text.lower()
    for word in ("hello", "new jersey", "chicago", "texas", "yankee"):
        assert word in text
    speakers = {s.speaker for s in t.segments if s.speaker}
    assert len(speakers) == 2, speakers
    assert editor.audio_path() and Path(editor.audio_path()).name == src.name
    # the new meeting is at once one the Training tab can train on
    combo = app.training_view.data.meetings
    assert any(Path(combo.itemData(i)).exists() and src.stem in combo.itemText(i) for i in range(combo.count()))

    first = t.segments[0].speaker
    editor.rename_speaker(first, "Diane")
    assert {s.name for s in editor.transcript().speakers if s.id == first} == {"Diane"}
    editor.undo_stack().undo()
    assert "Diane" not in {s.name for s in editor.transcript().speakers}
    editor.undo_stack().redo()
    assert {s.name for s in editor.transcript().speakers if s.id == first} == {"Diane"}
    editor.edit_text(0, "Hello, is this Sheila?")

    for fmt in ("docx", "srt"):
        out = tmp_path / f"call.{fmt}"
        app.files.export(editor.transcript(), fmt, str(out), title="Call")
        qtbot.waitUntil(out.exists, timeout=20_000)
    body = "\n".join(p.text for p in docx.Document(str(tmp_path / "call.docx")).paragraphs)
    assert "Diane" in body and "Hello, is this Sheila?" in body
    srt = (tmp_path / "call.srt").read_text(encoding="utf-8")
    assert "Diane" in srt and "Hello, is this Sheila?" in srt

    # the edits are autosaved into the Library's copy, and search finds them
    editor.flush()
    qtbot.waitUntil(lambda: bool(app.library.search("Sheila")), timeout=20_000)

    # save Diane's voice from the editor: the same `minutes voices add` users have, in a process
    from engine.speakers.profiles import ProfileStore

    name = "Diane Window-Test"
    try:
        editor.request_voice_profile(first, name)
        qtbot.waitUntil(lambda: name in {p.name for p in ProfileStore().load()}, timeout=120_000)
        qtbot.waitUntil(lambda: "Saved the voice" in app.window.statusBar().currentMessage(), timeout=10_000)
    finally:
        if name in {p.name for p in ProfileStore().load()}:
            ProfileStore().delete(name)


def test_bad_files_become_error_rows_and_the_queue_goes_on(app, qtbot, data_dir, tmp_path):
    from ui.files.queue_model import DONE, ERROR

    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" + os.urandom(2000))
    unsupported = tmp_path / "minutes.txt"
    unsupported.write_text("not audio", encoding="utf-8")
    good = tmp_path / "jfk.wav"
    shutil.copy(data_dir / "asr_en" / "jfk.wav", good)
    app.add_files([str(broken), str(unsupported), str(good)])
    assert _row_for(app, unsupported).state == ERROR
    assert "not an audio or video file" in _row_for(app, unsupported).message.lower()
    bad = _wait_finished(qtbot, app, broken)
    assert bad.state == ERROR and bad.message
    ok = _wait_finished(qtbot, app, good)
    assert ok.state == DONE, ok.message
    assert "country" in app.library.transcript(ok.meeting_id).text.lower()


def test_a_killed_child_is_an_error_row_and_the_next_job_runs(app, qtbot, data_dir, tmp_path):
    from ui.files.queue_model import DONE, ERROR, RUNNING

    long = tmp_path / "long.wav"
    shutil.copy(data_dir / "longform" / "en_asr_concat.wav", long)
    short = tmp_path / "after.wav"
    shutil.copy(data_dir / "asr_en" / "jfk.wav", short)
    app.add_files([str(long), str(short)])
    row = _row_for(app, long)
    qtbot.waitUntil(
        lambda: app.files_model.get(row.job_id).state == RUNNING and app.files_model.get(row.job_id).fraction > 0.02,
        timeout=JOB_TIMEOUT_MS,
    )
    assert app.files.kill_worker_for_test()
    dead = _wait_finished(qtbot, app, long, timeout=30_000)
    assert dead.state == ERROR and "stopped unexpectedly" in dead.message
    assert app.window.isVisible()
    nxt = _wait_finished(qtbot, app, short)
    assert nxt.state == DONE, nxt.message


def test_cancel_a_running_job(app, qtbot, data_dir, tmp_path):
    from ui.files.queue_model import CANCELLED, RUNNING

    long = tmp_path / "to cancel.wav"
    shutil.copy(data_dir / "longform" / "en_asr_concat.wav", long)
    app.add_files([str(long)])
    row = _row_for(app, long)
    qtbot.waitUntil(lambda: app.files_model.get(row.job_id).state == RUNNING, timeout=JOB_TIMEOUT_MS)
    t0 = time.monotonic()
    app.files.cancel(row.job_id)
    done = _wait_finished(qtbot, app, long, timeout=30_000)
    assert done.state == CANCELLED
    assert time.monotonic() - t0 < 10


def test_live_session_from_a_file_pause_and_stop_opens_the_editor(app, qtbot, data_dir):
    from ui.live.view import IDLE, PAUSED, RECORDING

    app.window.show_view("live")
    before = app.library.count()
    app.live.start("", "", "", from_file=str(data_dir / CALL))
    qtbot.waitUntil(lambda: app.live.state == RECORDING, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(app.live_view.plain_text().split()) >= 3, timeout=60_000)
    if hasattr(__import__("engine.live.session", fromlist=["LiveSession"]).LiveSession, "pause"):
        app.live.pause()
        assert app.live.state == PAUSED
        clock = app.live_view.elapsed_seconds()
        qtbot.wait(1200)
        assert abs(app.live_view.elapsed_seconds() - clock) < 0.05  # the clock stops
        app.live.resume()
        assert app.live.state == RECORDING
    qtbot.wait(1500)
    app.live.stop()
    qtbot.waitUntil(lambda: app.live.state == IDLE, timeout=120_000)
    assert app.library.count() == before + 1
    assert app.window.current_view() == "transcript"
    t = app.editor.transcript()
    assert t.segments and "hello" in t.text.lower()
    assert app.editor.audio_path() and Path(app.editor.audio_path()).name == "audio.wav"


def test_library_search_finds_a_word_and_delete_asks(app, qtbot, monkeypatch):
    view = app.library_view
    view.search("Chicago")
    assert view.hit_model.rowCount() >= 1
    meetings = app.library.list()
    n = len(meetings)
    view.search("")
    view.reload()
    view.meeting_list.setCurrentIndex(view.meeting_model.index(0, 0))
    asked = []

    def answer(reply):
        def exec_(box):
            asked.append(box.text())
            return reply

        return exec_

    monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.Cancel))
    view.delete_current()
    assert asked and app.library.count() == n
    monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.Yes))
    view.delete_current()
    assert app.library.count() == n - 1


def test_queue_model_passes_the_model_tester(app):
    QAbstractItemModelTester(app.files_model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert app.files_model.rowCount() > 0


def test_smoke_command_opens_the_demo_meeting(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "app.gui", "--smoke", "--settings", str(tmp_path / "s.ini"), "--data-dir",
         str(tmp_path / "data")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1 meeting(s); transcript open with" in out.stdout
    assert "heavy modules in the window's process: none" in out.stdout


def test_first_use_model_preparation_shows_a_non_modal_progress_dialog(app, qtbot):
    from engine.jobs import JobProgress

    app.files._model_dialog(JobProgress(None, "model", 0.0, "Loading the model"))
    assert app.files._preparing is None  # an ordinary load: the row says it
    app.files._model_dialog(JobProgress(None, "model", 0.35, "Exporting the encoder to ONNX"))
    dialog = app.files._preparing
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert not dialog.isModal() and dialog.value() == 350
    assert "Exporting the encoder" in dialog.labelText()
    app.files._model_dialog(JobProgress(None, "model", 1.0, "Model ready"))
    assert app.files._preparing is None


def test_fine_tuned_models_appear_in_the_files_and_settings_model_lists(app, qtbot, tmp_path, monkeypatch):
    from engine.models import registry
    from engine.models.export_manifest import ExportManifest, write_export_manifest

    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "export"
    for precision in ("fp32", "int8"):  # an exported folder's shape (the list reads names, not graphs)
        (folder / precision).mkdir(parents=True)
        for graph in ("encoder.onnx", "decoder.onnx"):
            (folder / precision / graph).write_bytes(b"x" * 100)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    write_export_manifest(folder, ExportManifest(name="team-names", dims={"n_text_layer": 1}, alignment_heads=[]))
    registry.register("team-names", folder, {"base_model": "whisper-base"})

    def listed(box) -> list[str]:
        return [box.itemData(i) for i in range(box.count())]

    app.refresh_models()
    qtbot.waitUntil(lambda: "team-names" in listed(app.settings_view.model), timeout=10_000)
    assert listed(app.files_view.model_box) == ["base", "team-names"]
    assert "fine-tuned" in app.settings_view.model.itemText(1)
    registry.remove("team-names")
    app.refresh_models()
    qtbot.waitUntil(lambda: listed(app.settings_view.model) == ["base"], timeout=10_000)


def test_a_model_change_ends_the_warm_child_without_freezing_the_window(app, qtbot):
    """Settings → another thread count: the warm child (model loaded) is let go in a thread, the
    click returns at once, the next job starts a child with the new setting and transcribes."""
    import dataclasses

    jfk = REPO / "resources" / "demo" / "jfk.wav"
    if app.files.worker is None:
        app.add_files([str(jfk)])
        _wait_finished(qtbot, app, jfk)
    warm = app.files.worker
    assert warm is not None and warm.alive
    before = app.prefs
    started = time.perf_counter()
    app.apply_preferences(dataclasses.replace(before, threads=1 if before.threads != 1 else 2))
    took = time.perf_counter() - started
    assert app.files.worker is None  # let go: the next job starts one with the new setting
    assert took < 0.15, f"the window waited {took:.2f} s for the old child"  # was 0.28 s with a join
    qtbot.waitUntil(lambda: not warm.alive, timeout=15_000)  # and it did end
    app.add_files([str(jfk)])
    done = _wait_finished(qtbot, app, jfk)
    assert done.state == "done", done.message
    assert app.files.worker is not None and app.files.worker is not warm
    newest = app.library.list()[0]
    assert "country" in newest.transcript_path.read_text(encoding="utf-8").lower()
    app.apply_preferences(before)
