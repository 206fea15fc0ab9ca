"""The Chinese interface: every string of resources/translations/minutes_zh_CN.ts translated,
the committed .qm in step with it, and the real window (offscreen) showing no English where a
translation exists. After changing strings in ui/ or app/: ``make translations``, translate."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MINUTES_AUDIO_OUTPUT", "none")

from PySide6.QtCore import QCoreApplication, Qt, QTranslator  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QTabBar, QWidget  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TS = REPO / "resources" / "translations" / "minutes_zh_CN.ts"
QM = TS.with_suffix(".qm")
PLACEHOLDER = re.compile(r"\{[A-Za-z_0-9]*\}|%n|%\d+")
TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*")


def _messages() -> list[tuple[str, str, str, str | None, bool]]:
    """(context, source, translation, type, numerus) for every message of the .ts that the code
    still has (not the "vanished"/"obsolete" ones lupdate keeps for reuse)."""
    out = []
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name") or ""
        for m in context.iter("message"):
            t = m.find("translation")
            if t.get("type") in ("vanished", "obsolete"):
                continue
            numerus = m.get("numerus") == "yes"
            forms = [f.text or "" for f in t.iter("numerusform")] if numerus else [t.text or ""]
            for text in forms:
                out.append((name, m.findtext("source") or "", text, t.get("type"), numerus))
    return out


def _differing_sources() -> set[str]:
    """English sources whose Chinese differs (not "CPU", "Minutes"…): none of them may be on screen."""
    return {src for _, src, zh, _, _ in _messages() if zh.strip() and zh != src}


def test_every_message_is_translated_with_the_same_placeholders_and_tags():
    messages = _messages()
    assert len(messages) > 250
    problems = []
    for ctx, src, zh, kind, _ in messages:
        if kind == "unfinished" or not zh.strip():
            problems.append(f"{ctx}: {src!r} is not translated ({kind or 'empty'})")
            continue
        if sorted(PLACEHOLDER.findall(src)) != sorted(PLACEHOLDER.findall(zh)):
            problems.append(f"{ctx}: placeholders differ: {src!r} -> {zh!r}")
        if sorted(TAG.findall(src)) != sorted(TAG.findall(zh)):
            problems.append(f"{ctx}: HTML tags differ: {src!r} -> {zh!r}")
        accel = re.search(r"&([A-Za-z])", src.replace("&&", ""))
        if accel and f"&{accel.group(1).upper()}" not in zh.upper():
            problems.append(f"{ctx}: the accelerator &{accel.group(1)} is lost: {src!r} -> {zh!r}")
        if src.endswith("…") != zh.endswith("…"):
            problems.append(f"{ctx}: an ellipsis (a dialog follows) differs: {src!r} -> {zh!r}")
    assert not problems, "\n".join(problems) + "\n(make translations, then translate in the .ts)"


def test_the_committed_qm_matches_the_ts(qapp):
    t = QTranslator()
    assert t.load(str(QM)), f"{QM} missing: make translations"
    stale = []
    for ctx, src, zh, _, numerus in _messages():
        got = t.translate(ctx, src, None, 2 if numerus else -1)
        if got != zh:
            stale.append(f"{ctx}: {src!r}: .qm has {got!r}, .ts has {zh!r}")
    assert not stale, "\n".join(stale[:20]) + "\n(the .qm is stale: make translations)"


def test_the_ts_has_every_string_of_ui_and_app(tmp_path):
    """lupdate over the code finds nothing the committed .ts lacks (else: make translations)."""
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    found = str(lupdate) if lupdate.exists() else shutil.which("pyside6-lupdate")
    if not found:
        pytest.skip("pyside6-lupdate not installed")
    sources = sorted(str(p.relative_to(REPO)) for d in ("ui", "app") for p in (REPO / d).rglob("*.py"))
    fresh = tmp_path / "fresh.ts"
    subprocess.run([found, "-silent", "-locations", "none", *sources, "-ts", str(fresh)], cwd=REPO, check=True)
    ours = {(c, s) for c, s, *_ in _messages()}
    theirs = set()
    for context in ET.parse(fresh).getroot().iter("context"):
        theirs |= {(context.findtext("name") or "", m.findtext("source") or "") for m in context.iter("message")}
    assert not theirs - ours, f"not in {TS.name} yet (make translations): {sorted(theirs - ours)[:20]}"


# ------------------------------------------------------------------------------ the window in Chinese


@pytest.fixture(scope="module")
def zh_app(qapp, tmp_path_factory):
    from app import i18n
    from app.settings import Preferences, Settings
    from app.window import App
    from engine.transcript import Transcript

    root = tmp_path_factory.mktemp("zh")
    ini = str(root / "settings.ini")
    Settings(ini).save(Preferences(data_folder=str(root / "data"), ui_language="zh_CN", language="en"))
    Settings(ini).set_value("demo/added", True)  # no demo job, no child process
    a = App(qapp, settings_path=ini, recovery=False)
    assert a.language == "zh_CN"
    a.live.prepare = lambda: None  # the Live view would load the streaming model in a child
    demo = REPO / "resources" / "demo"
    a.editor.set_transcript(Transcript.load(str(demo / "call.json")), str(demo / "call.flac"), None)
    a.window.resize(1280, 800)
    a.window.show()
    yield a
    a.shutdown()
    a.window.really_close()
    i18n.install(qapp, "en")


def _visible_texts(window, root: QWidget) -> list[tuple[str, str]]:
    """(what, text) of every visible label, button, group box, tab and action under ``root``."""
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(window):
            continue
        if isinstance(w, QLabel):
            out.append((f"QLabel {w.objectName()}", w.text()))
        elif isinstance(w, QAbstractButton):
            out.append((type(w).__name__, w.text()))
            out.append((f"{type(w).__name__} tooltip", w.toolTip()))
        elif isinstance(w, QGroupBox):
            out.append(("QGroupBox", w.title()))
        elif isinstance(w, QTabBar):
            out += [("tab", w.tabText(i)) for i in range(w.count())]
        if hasattr(w, "placeholderText"):
            out.append((f"{type(w).__name__} placeholder", w.placeholderText()))
    out += [("QAction", a.text()) for a in root.findChildren(QAction)]
    return [(what, text) for what, text in out if text]


def test_sidebar_menus_and_views_are_in_chinese(zh_app):
    w = zh_app.window
    titles = [w.sidebar.item(i).text() for i in range(w.sidebar.count())]
    assert titles == ["实时", "文件", "转录稿", "会议库", "设置", "训练"]
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus == ["文件(&F)", "编辑(&E)", "视图(&V)", "帮助(&H)"]
    assert w.open_action.text() == "打开录音(&O)…"
    assert w.export_actions["docx"].text() == "Word 文档 (.docx)"
    assert zh_app.files_view.open_button.text() == "打开…"
    assert zh_app.files_view.options_box.title() == "新文件的选项"
    assert [zh_app.files_model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)] == [
        "文件",
        "状态",
        "进度",
        "剩余时间",
    ]
    assert zh_app.editor.chapters_title.text() == "章节"
    assert zh_app.editor.speakers_title.text() == "说话人"
    s = zh_app.settings_view
    assert s.device.itemText(0) == "自动（有 GPU 时使用 GPU）"
    assert s.language.itemText(s.language.findData("zh")) == "中文"
    from PySide6.QtWidgets import QDialogButtonBox

    apply = s.buttons.button(QDialogButtonBox.StandardButton.Apply).text()
    assert apply.startswith("应用"), apply  # Qt's own strings: qtbase_zh_CN.qm


@pytest.mark.parametrize("key", ["live", "files", "transcript", "library", "settings", "training"])
def test_no_english_left_on_screen_where_a_translation_exists(zh_app, qtbot, key):
    w = zh_app.window
    w.show_view(key)
    qtbot.wait(20)
    english = _differing_sources()
    left = [(what, text) for what, text in _visible_texts(w, w.view(key)) if text in english]
    if key == "files":  # the window's own bars and menus, once
        left += [(what, t) for what, t in _visible_texts(w, w.menuBar()) + _visible_texts(w, w.statusBar())
                 if t in english]  # fmt: skip
        left += [("menu", a.text()) for m in (w.file_menu, w.export_menu, w.edit_menu, w.view_menu, w.help_menu)
                 for a in m.actions() if a.text() in english]  # fmt: skip
    assert not left, f"English in the Chinese {key} view: {left}"
    shown_ampersand = [label.text() for label in w.view(key).findChildren(QLabel)
                       if label.isVisibleTo(w) and re.search(r"&\w", label.text()) and label.buddy() is None
                       and label.textFormat() != Qt.TextFormat.RichText]  # fmt: skip
    assert not shown_ampersand, f"labels that show their '&' (no buddy): {shown_ampersand}"


def test_switching_the_language_in_settings_installs_the_translation(zh_app, qtbot):
    """The Settings box applies at once (new text, messages, models); built widgets keep theirs
    until a restart, and the status bar says so in the new language."""
    s = zh_app.settings_view
    translate = QCoreApplication.translate
    try:
        s.ui_language.setCurrentIndex(s.ui_language.findData("en"))
        assert zh_app.language == "en" and zh_app.prefs.ui_language == "en"
        assert translate("JobQueueModel", "Waiting") == "Waiting"
        assert zh_app.window.statusBar().currentMessage() == "The new language is used fully after a restart."
        s.ui_language.setCurrentIndex(s.ui_language.findData("zh_CN"))
        assert zh_app.language == "zh_CN"
        assert translate("JobQueueModel", "Waiting") == "等待中"
        assert zh_app.window.statusBar().currentMessage() == "重新启动后将完全使用新语言。"
    finally:
        s.ui_language.setCurrentIndex(s.ui_language.findData("zh_CN"))
