"""The Library (engine/library.py) and its view (ui/library/): real transcripts from the engine.

Two transcripts are made once per session with the packaged model on the CPU: the two-speaker
English sample and a Mandarin utterance. Qt tests run offscreen.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported (pytest-qt imports it lazily)

from engine.library import (  # noqa: E402
    INDEX_NAME,
    Library,
    LibraryError,
    MeetingNotFound,
    make_snippet,
    query_terms,
)
from engine.transcript import Transcript  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EN_AUDIO = "diarization/pyannote_sample/sample.wav"
ZH_AUDIO = "asr_zh/paddlespeech_zh.wav"
T0 = datetime(2026, 3, 2, 9, 30).astimezone()


@pytest.fixture(scope="session")
def en_transcript(data_dir, recognizer) -> Transcript:
    from engine.file_job import AsrOptions, TranscribeOptions

    return recognizer.transcribe(data_dir / EN_AUDIO, TranscribeOptions(asr=AsrOptions(language="en")))


@pytest.fixture(scope="session")
def zh_transcript(data_dir, recognizer) -> Transcript:
    from engine.file_job import AsrOptions, TranscribeOptions

    return recognizer.transcribe(data_dir / ZH_AUDIO, TranscribeOptions(asr=AsrOptions(language="zh")))


def _copy(t: Transcript) -> Transcript:
    return Transcript.from_dict(t.to_dict())


def _segment_with(t: Transcript, word: str):
    return next(s for s in t.segments if word.lower() in s.text.lower())


@pytest.fixture
def lib(tmp_path, en_transcript, zh_transcript, data_dir) -> Library:
    """A library with the English meeting (older) and the Chinese one (newer)."""
    library = Library(tmp_path / "data")
    library.add(en_transcript, data_dir / EN_AUDIO, created=T0)
    library.add(zh_transcript, data_dir / ZH_AUDIO, title="跑步 weekly", created=T0 + timedelta(days=1))
    yield library
    library.close()


def _fts_consistent(library: Library) -> bool:
    """FTS5's own check that the index matches its content table (raises if not)."""
    if library.fts:
        con = library._con()
        con.execute("INSERT INTO segments_fts(segments_fts, rank) VALUES ('integrity-check', 1)")
    return True


def _ids(library: Library) -> dict[str, str]:
    return {m.language: m.id for m in library.list()}


# --- the library -----------------------------------------------------------------------------


def test_add_and_list_newest_first(lib, en_transcript, data_dir):
    meetings = lib.list()
    assert [m.language for m in meetings] == ["zh", "en"]  # newest first
    zh, en = meetings
    assert en.title == "sample" and zh.title == "跑步 weekly"  # the audio's name by default
    assert en.source == "file"
    assert Path(en.audio_path) == (data_dir / EN_AUDIO).absolute() and en.audio_exists
    assert en.duration == pytest.approx(en_transcript.audio.duration, abs=1e-3)
    assert en.speakers == tuple(s.name for s in en_transcript.speakers) and len(en.speakers) >= 2
    assert en.preview.startswith(en_transcript.segments[0].text.strip()[:20])
    assert en.created_at == T0
    # the files are the truth: meeting.json with its fields, transcript.json loadable
    meta = json.loads((en.folder / "meeting.json").read_text(encoding="utf-8"))
    assert {"id", "title", "created", "source", "audio_path", "duration", "speakers", "language"} <= set(meta)
    t = lib.transcript(en.id)
    assert [s.text for s in t.segments] == [s.text for s in en_transcript.segments]
    assert t.audio.path == en.audio_path
    assert lib.get(en.id) == en


def test_search_english_finds_word_and_time(lib, en_transcript):
    seg = _segment_with(en_transcript, "Yankee")
    hits = lib.search("yankee")  # case does not matter
    assert len(hits) == 1
    h = hits[0]
    assert h.meeting_id == _ids(lib)["en"] and h.title == "sample"
    assert h.start == pytest.approx(seg.start, abs=1e-3) and not h.in_title
    assert [h.snippet[a:b] for a, b in h.marks] == ["Yankee"]
    assert "[Yankee]" in h.marked()
    # several terms: every one must be in the segment
    jersey = [s for s in en_transcript.segments if "jersey" in s.text.lower()]
    assert len(lib.search("Jersey")) == len(jersey) >= 2
    both = lib.search("jersey now")
    assert both and all("now" in h.snippet.lower() and "jersey" in h.snippet.lower() for h in both)


def test_search_chinese(lib, zh_transcript):
    zh = _ids(lib)["zh"]
    seg = _segment_with(zh_transcript, "身体")
    for q in ("身体健康", "最重要的", "跑步", "跑", "健康 跑步"):  # trigram, and 1-2 characters (LIKE)
        hits = [h for h in lib.search(q) if not h.in_title]
        assert hits, q
        assert hits[0].meeting_id == zh and hits[0].start == pytest.approx(seg.start, abs=1e-3), q
        marked = {hits[0].snippet[a:b] for a, b in hits[0].marks}
        assert marked == set(q.split()), q
    # the title is searchable too, and comes first within its meeting
    hits = lib.search("weekly")
    assert len(hits) == 1 and hits[0].in_title and hits[0].meeting_id == zh


def test_save_after_edit_reindexes(lib, en_transcript):
    en = _ids(lib)["en"]
    t = lib.transcript(en)
    seg = _segment_with(t, "Yankee")
    seg.text = seg.text.replace("Yankee", "Northerner")
    t.speakers[0].name = "Sheila"
    lib.save(en, t)
    assert lib.search("Yankee") == []
    hits = lib.search("northerner")
    assert len(hits) == 1 and hits[0].start == pytest.approx(seg.start, abs=1e-3)
    assert lib.get(en).speakers[0] == "Sheila"
    assert "Northerner" in lib.transcript_path(en).read_text(encoding="utf-8")
    assert not list(lib.get(en).folder.glob("*.tmp"))  # atomic write leaves no temporary file
    assert _fts_consistent(lib)


def test_editor_hook_index_and_changes_seen_on_open(lib, tmp_path):
    en = _ids(lib)["en"]
    path = lib.transcript_path(en)
    d = json.loads(path.read_text(encoding="utf-8"))
    d["segments"][0]["text"] = "Quarterly budget review"
    path.write_text(json.dumps(d), encoding="utf-8")  # the editor writes it itself...
    lib.index(en)  # ...then calls the hook
    assert [h.meeting_id for h in lib.search("budget")] == [en]
    # a change made while the library was closed is picked up when it opens
    lib.close()
    d["segments"][0]["text"] = "Hiring plan"
    path.write_text(json.dumps(d), encoding="utf-8")
    again = Library(tmp_path / "data")
    assert again.search("budget") == [] and [h.meeting_id for h in again.search("hiring plan")] == [en]
    again.close()


def test_save_from_a_worker_while_searching(lib):
    en = _ids(lib)["en"]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for i in range(15):
                t = lib.transcript(en)
                t.segments[0].text = f"autosave number{i}"
                lib.save(en, t)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    th = threading.Thread(target=worker)
    th.start()
    while th.is_alive():
        lib.search("Jersey")
        lib.list()
    th.join()
    assert not errors
    assert [h.meeting_id for h in lib.search("number14")] == [en]
    assert _fts_consistent(lib)


def test_rename(lib):
    en = _ids(lib)["en"]
    m = lib.rename(en, "  Call with   Diane ")
    assert m.title == "Call with Diane" and lib.get(en).title == "Call with Diane"
    assert json.loads((m.folder / "meeting.json").read_text(encoding="utf-8"))["title"] == "Call with Diane"
    assert [h.meeting_id for h in lib.search("diane") if h.in_title] == [en]
    assert not [h for h in lib.search("sample") if h.in_title]
    assert _fts_consistent(lib)
    lib.rename(en, "")  # no title: no title row
    assert not [h for h in lib.search("diane") if h.in_title] and _fts_consistent(lib)
    with pytest.raises(MeetingNotFound):
        lib.rename("20990101-000000-abcdef", "x")


def test_delete_keeps_audio_unless_asked(tmp_path, en_transcript, data_dir):
    audio = tmp_path / "call.wav"
    shutil.copy(data_dir / EN_AUDIO, audio)
    lib = Library(tmp_path / "data")
    a = lib.add(en_transcript, audio)
    b = lib.add(en_transcript, audio, title="second")
    assert not lib.owns_audio(a)  # the user's own file: the window does not offer to delete it
    assert lib.delete(a.id) is False
    assert audio.exists() and not a.folder.exists()
    assert [m.id for m in lib.list()] == [b.id]
    assert all(h.meeting_id == b.id for h in lib.search("Jersey"))
    with pytest.raises(MeetingNotFound):
        lib.get(a.id)
    # asked, but another meeting still uses it: kept
    c = lib.add(en_transcript, audio, title="third")
    assert lib.delete(b.id, delete_audio=True) is False and audio.exists()
    assert lib.delete(c.id, delete_audio=True) is True and not audio.exists()
    assert lib.list() == [] and lib.search("Jersey") == []
    assert _fts_consistent(lib)
    lib.close()


def _session(root: Path, transcript: Transcript, audio_src: Path, state: str = "finished") -> Path:
    folder = root / "sessions" / "20260302-093000-ab12"
    folder.mkdir(parents=True)
    shutil.copy(audio_src, folder / "audio.wav")
    started = T0.timestamp()
    meta = {"state": state, "started": started, "stopped": started + 30, "sample_rate": 16000}
    (folder / "session.json").write_text(json.dumps(meta), encoding="utf-8")
    t = _copy(transcript)
    t.audio.path = str(folder / "audio.wav")
    (folder / "transcript.json").write_text(t.to_json(), encoding="utf-8")
    return folder


def test_import_session_and_delete_its_audio(tmp_path, en_transcript, data_dir):
    root = tmp_path / "data"
    folder = _session(root, en_transcript, data_dir / EN_AUDIO)
    lib = Library(root)
    m = lib.import_session(folder)
    assert m.source == "live" and m.title == "" and m.created_at == T0
    assert Path(m.audio_path) == folder / "audio.wav" and lib.owns_audio(m)
    assert lib.import_session(folder).id == m.id and len(lib.list()) == 1  # once only
    assert [h.meeting_id for h in lib.search("Yankee")] == [m.id]
    # kept unless asked
    lib.delete(m.id)
    assert (folder / "audio.wav").exists()
    m = lib.import_session(folder)
    assert lib.delete(m.id, delete_audio=True) is True
    assert not folder.exists() and lib.list() == []
    lib.close()


def test_import_session_refuses_a_running_one(tmp_path, en_transcript, data_dir):
    root = tmp_path / "data"
    folder = _session(root, en_transcript, data_dir / EN_AUDIO, state="recording")
    lib = Library(root)
    with pytest.raises(LibraryError, match="not finished"):
        lib.import_session(folder)
    with pytest.raises(LibraryError):
        lib.import_session(tmp_path)
    lib.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old schema", "missing", "empty file"])
def test_damaged_index_is_rebuilt(lib, tmp_path, damage):
    root = tmp_path / "data"
    path = root / INDEX_NAME
    lib.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        path.write_bytes(b"this is not a database \x00\xff" * 500)
    elif damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif damage == "old schema":
        path.unlink()
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE meetings(id TEXT)")
        con.execute("PRAGMA user_version=0")
        con.commit()
        con.close()
    elif damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"")
    again = Library(root)
    assert len(again.list()) == 2
    assert [h.meeting_id for h in again.search("Yankee")] == [_ids(again)["en"]]
    assert again.search("身体健康")
    again.close()


def test_index_damaged_while_open_is_rebuilt(lib, tmp_path):
    path = tmp_path / "data" / INDEX_NAME
    lib.close()  # connections reopen on the next call
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"\x13" * 8192)
    assert [h.title for h in lib.search("Yankee")] == ["sample"]
    assert lib.rebuild_index() == 2 and len(lib.list()) == 2


ODD = [
    '"', "'", '""', "don't", "o'clock", "-", "a-b", "--", "*", "**", "x*", "^", ":", "text:hello", "(", ")",
    "((a))", "NEAR(a b)", "AND", "OR", "NOT", "a OR b", "a AND NOT b", "%", "_", "%_%", "\\", "\\\\", "'; DROP TABLE",
    "{a b}", "+", "@", "#", "   ", "", "\t\n", "😀", "x" * 2000, '"unbalanced', 'a "b c', "\x00", "a\x00b",
]  # fmt: skip


def test_odd_queries_never_raise(lib):
    for q in ODD:
        hits = lib.search(q)
        assert isinstance(hits, list), q
    assert lib.search("%") == [] and lib.search("_") == []  # LIKE wildcards are literal
    assert lib.search("") == [] and lib.search("   ") == []
    assert [h.meeting_id for h in lib.search("didn't")] == [_ids(lib)["en"]]  # apostrophe kept
    assert lib.search('"know you were"') and not lib.search('"were know"')  # a quoted phrase keeps its order
    pasted = " ".join(s.text for s in lib.transcript(_ids(lib)["en"]).segments) * 5  # hundreds of words
    assert isinstance(lib.search(pasted), list)


def test_query_terms_and_snippet():
    assert query_terms('budget  "next quarter" Q3') == ["budget", "next quarter", "Q3"]
    assert query_terms("a A a") == ["a"]
    text = "word " * 80 + "the budget line " + "word " * 80
    snippet, marks = make_snippet(text, ["budget"])
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) < 200
    assert [snippet[a:b] for a, b in marks] == ["budget"]


def test_missing_audio_does_not_break_listing(tmp_path, en_transcript, data_dir):
    audio = tmp_path / "gone.wav"
    shutil.copy(data_dir / EN_AUDIO, audio)
    lib = Library(tmp_path / "data")
    m = lib.add(en_transcript, audio)
    lib.add(en_transcript, tmp_path / "never-existed.wav", title="nowhere")
    audio.unlink()
    again = Library(tmp_path / "data")
    meetings = again.list()
    assert len(meetings) == 2 and not any(x.audio_exists for x in meetings)
    assert again.search("Yankee") and again.transcript(m.id).segments
    assert again.delete(m.id, delete_audio=True) is True  # nothing to delete: still fine
    lib.close()
    again.close()


def test_unreadable_meeting_files_are_skipped(lib, tmp_path):
    root = tmp_path / "data"
    en = _ids(lib)["en"]
    (root / "meetings" / en / "transcript.json").write_text("{ not json", encoding="utf-8")
    bad = root / "meetings" / "20200101-000000-bad000"
    bad.mkdir()
    (bad / "meeting.json").write_text("[1, 2", encoding="utf-8")
    (root / "meetings" / "stray-folder").mkdir()
    lib.close()
    again = Library(root)
    meetings = again.list()
    assert {m.id for m in meetings} == set(_ids(lib).values())  # the bad one is left out, no exception
    assert again.get(en).preview == "" and again.search("Yankee") == []
    with pytest.raises(LibraryError):
        again.transcript(en)
    with pytest.raises(MeetingNotFound):
        again.get("../../etc")
    again.close()


def test_rebuild_of_many_meetings_is_quick(tmp_path, en_transcript):
    """A first start with many meetings and no index: how long the rebuild takes (also a check
    that it completes); the window runs it in a worker thread either way."""
    lib = Library(tmp_path / "data")
    for i in range(60):
        lib.add(en_transcript, "/nonexistent/a.wav", title=f"meeting {i}", created=T0 + timedelta(hours=i))
    t = time.perf_counter()
    assert lib.rebuild_index() == 60
    elapsed = time.perf_counter() - t
    assert elapsed < 5, elapsed
    assert len(lib.search("Yankee")) == 50  # the default limit
    assert [m.title for m in lib.list()[:2]] == ["meeting 59", "meeting 58"]
    lib.close()


def test_no_torch_or_onnxruntime_in_the_window_modules(tmp_path):
    code = (
        "import sys\n"
        "from engine.library import Library\n"
        "import ui.library\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        f"lib = Library({str(tmp_path / 'data')!r})\n"
        "view = ui.library.LibraryView(lib, sync=False)\n"
        "lib.search('hello')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnxruntime'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MINUTES_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


# --- the view --------------------------------------------------------------------------------


@pytest.fixture
def view(qtbot, lib):
    from ui.library import LibraryView

    v = LibraryView(lib, sync=False)
    qtbot.addWidget(v)
    v.resize(v.sizeHint() * 2)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_view_lists_meetings(view, lib):
    model = view.meeting_model
    assert model.rowCount() == 2
    assert [model.index(r, 0).data() for r in range(2)] == ["跑步 weekly", "sample"]
    assert view.pages.currentIndex() == view.PAGE_MEETINGS
    assert "2" in view.summary.text()


def test_typing_filters(view, qtbot, lib):
    from PySide6.QtCore import Qt

    qtbot.keyClicks(view.search_box, "Jersey")
    qtbot.waitUntil(lambda: view.pages.currentIndex() == view.PAGE_HITS)
    en = _ids(lib)["en"]
    rows = [view.hit_model.hit(r) for r in range(view.hit_model.rowCount())]
    assert len(rows) >= 2 and all(h.meeting_id == en for h in rows)
    # a word nowhere: the "nothing found" page, not an empty list
    view.search_box.clear()
    qtbot.keyClicks(view.search_box, "zebra")
    qtbot.waitUntil(lambda: view.pages.currentIndex() == view.PAGE_NO_HITS)
    assert "zebra" in view.no_hits_label.text()
    # Esc clears: the meetings come back
    qtbot.keyClick(view.search_box, Qt.Key.Key_Escape)
    assert view.pages.currentIndex() == view.PAGE_MEETINGS and view.search_box.text() == ""


def test_enter_opens_meeting_and_hit(view, qtbot, lib, en_transcript):
    from PySide6.QtCore import Qt

    opened: list[str] = []
    view.meeting_opened.connect(opened.append)
    view.meeting_list.setFocus()
    view.meeting_list.setCurrentIndex(view.meeting_model.index(1, 0))
    qtbot.keyClick(view.meeting_list, Qt.Key.Key_Return)
    assert opened == [_ids(lib)["en"]]  # once, the second row's meeting
    # a hit opens the meeting at its time: type, Down into the results, Enter
    at: list[tuple[str, float]] = []
    view.hit_opened.connect(lambda mid, t: at.append((mid, t)))
    view.search_box.setFocus()
    qtbot.keyClicks(view.search_box, "Yankee")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Down)
    assert view.hit_list.hasFocus()
    qtbot.keyClick(view.hit_list, Qt.Key.Key_Enter)
    start = _segment_with(en_transcript, "Yankee").start
    assert len(at) == 1 and at[0][0] == _ids(lib)["en"] and at[0][1] == pytest.approx(start, abs=1e-3)


def test_delete_asks_and_removes_row(view, qtbot, lib, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    asked: list[tuple[str, bool]] = []
    answer = {"button": QMessageBox.StandardButton.Cancel}

    def fake_exec(box):
        asked.append((box.text(), box.checkBox() is not None))
        return answer["button"]

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    deleted: list[str] = []
    view.meeting_deleted.connect(deleted.append)
    zh = _ids(lib)["zh"]
    view.meeting_list.setFocus()
    view.meeting_list.setCurrentIndex(view.meeting_model.index(0, 0))
    qtbot.keyClick(view.meeting_list, Qt.Key.Key_Delete)
    assert asked == [("Delete “跑步 weekly”?", False)]  # the user's own file: no "delete the audio" box
    assert view.meeting_model.rowCount() == 2 and deleted == []  # cancelled: nothing happens
    answer["button"] = QMessageBox.StandardButton.Yes
    qtbot.keyClick(view.meeting_list, Qt.Key.Key_Delete)
    assert deleted == [zh] and view.meeting_model.rowCount() == 1
    assert [m.id for m in lib.list()] == [_ids(lib)["en"]]
    assert Path(lib.list()[0].audio_path).exists()


def test_delete_offers_audio_of_a_live_session(qtbot, tmp_path, en_transcript, data_dir, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from ui.library import LibraryView

    root = tmp_path / "data"
    folder = _session(root, en_transcript, data_dir / EN_AUDIO)
    lib = Library(root)
    lib.import_session(folder)
    v = LibraryView(lib, sync=False)
    qtbot.addWidget(v)
    assert v.meeting_model.index(0, 0).data() == "Live meeting"  # untitled: the window's default

    def fake_exec(box):
        assert box.checkBox() is not None
        box.checkBox().setChecked(True)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    v.delete_current()
    assert not folder.exists() and lib.list() == []
    assert v.pages.currentIndex() == v.PAGE_EMPTY
    lib.close()


def test_rename_with_f2(view, qtbot, lib):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QLineEdit

    renamed: list[tuple[str, str]] = []
    view.meeting_renamed.connect(lambda mid, title: renamed.append((mid, title)))
    view.meeting_list.setFocus()
    view.meeting_list.setCurrentIndex(view.meeting_model.index(1, 0))
    qtbot.keyClick(view.meeting_list, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "sample"
    editor.selectAll()
    qtbot.keyClicks(editor, "Call with Diane")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(renamed))  # the delegate commits in a queued call
    en = _ids(lib)["en"]
    assert renamed == [(en, "Call with Diane")] and lib.get(en).title == "Call with Diane"
    assert view.meeting_model.index(1, 0).data() == "Call with Diane"


def test_empty_state_and_background_sync(qtbot, tmp_path, en_transcript):
    from ui.library import LibraryView

    root = tmp_path / "data"
    lib = Library(root)
    v = LibraryView(lib, sync=False)
    qtbot.addWidget(v)
    assert v.pages.currentIndex() == v.PAGE_EMPTY and "No meetings yet" in v.empty_heading.text()
    assert not v.search_box.isEnabled()
    # a meeting written by another process: the background sync finds it
    other = Library(root)
    other.add(en_transcript, "/nonexistent/a.wav")
    other.close()
    lib.close()
    (root / INDEX_NAME).write_bytes(b"junk" * 100)  # and the index is damaged meanwhile
    for suffix in ("-wal", "-shm"):
        Path(f"{root / INDEX_NAME}{suffix}").unlink(missing_ok=True)
    with qtbot.waitSignal(v.synced, timeout=10000):
        v.sync_in_background()
        assert v.empty_heading.text() == "Opening the library…"  # not "no meetings" while it reads them
    assert v.meeting_model.rowCount() == 1 and v.pages.currentIndex() == v.PAGE_MEETINGS
    lib.close()


def test_models_pass_the_model_tester(qtbot, lib):
    from PySide6.QtTest import QAbstractItemModelTester

    from ui.library.model import HitListModel, MeetingListModel

    mode = QAbstractItemModelTester.FailureReportingMode.Fatal
    meetings = MeetingListModel()
    QAbstractItemModelTester(meetings, mode)
    meetings.set_meetings(lib.list())
    for role in range(0, 300):
        meetings.index(0, 0).data(role)
    meetings.setData(meetings.index(0, 0), "renamed")
    meetings.remove(lib.list()[0].id)
    meetings.set_meetings([])
    hits = HitListModel()
    QAbstractItemModelTester(hits, mode)
    hits.set_hits(lib.search("Jersey") + lib.search("跑步"), "x")
    for role in range(0, 300):
        hits.index(0, 0).data(role)
    hits.rename_meeting(_ids(lib)["en"], "x")
    hits.remove_meeting(_ids(lib)["en"])
    assert hits.rowCount() == len([h for h in lib.search("跑步")])
    hits.set_hits([])


def test_default_root_is_the_user_data_folder(tmp_path, monkeypatch, en_transcript):
    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "user-data"))
    lib = Library()
    m = lib.add(en_transcript, "/nonexistent/a.wav")
    assert lib.root == tmp_path / "user-data"
    assert m.folder == tmp_path / "user-data" / "meetings" / m.id
    assert (tmp_path / "user-data" / INDEX_NAME).is_file()
    lib.close()


def test_without_trigram_every_term_uses_like(lib, tmp_path, monkeypatch):
    """An SQLite older than 3.34 (no trigram tokenizer): same results, from LIKE; the index made
    with trigram is rebuilt without it."""
    import engine.library as library_module

    lib.close()
    monkeypatch.setattr(library_module, "TRIGRAM", False)
    old = Library(tmp_path / "data")
    assert not old.fts
    assert [h.title for h in old.search("yankee")] == ["sample"]
    assert old.search("身体健康") and old.search("跑步") and old.search("zebra") == []
    assert [h.meeting_id for h in old.search("weekly") if h.in_title] == [_ids(old)["zh"]]
    old.close()
