"""Render every view of the real window, with real transcripts, into docs/screenshots/.

    .venv/bin/python tools/screenshots.py            # English and Chinese, scale 1 and 2
    .venv/bin/python tools/screenshots.py --one en 1 # one run (what each of the four does)

Each (language, scale) runs in a process of its own (QT_SCALE_FACTOR is read when Qt starts),
offscreen, with a Library under bench/out/screens/ that the first run fills by transcribing
shared recordings through the window itself (so later runs are quick). Files: one job done,
one error, one running (caught mid-way). Transcript: the 7-minute AMI meeting, played to 1:35.
Live: a session fed from a recording at real-time pace, caught while it runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
WORK = REPO / "bench" / "out" / "screens"
OUT = REPO / "docs" / "screenshots"
MEETINGS = [
    DATA / "longform" / "ami_debug_concat_7min.wav",
    DATA / "diarization" / "librispeech_turns_synthetic" / "libri_6spk.wav",
]


def run_one(lang: str, scale: str) -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = scale
    sys.path.insert(0, str(REPO))
    from PySide6.QtWidgets import QApplication

    from app.settings import Preferences, Settings
    from app.window import App
    from ui.files.queue_model import DONE, FINISHED, RUNNING
    from ui.live.view import IDLE, RECORDING

    qapp = QApplication([sys.argv[0]])
    ini = WORK / f"settings-{lang}-{scale}.ini"
    ini.unlink(missing_ok=True)
    Settings(str(ini)).save(
        Preferences(data_folder=str(WORK / "library"), ui_language="zh_CN" if lang == "zh" else "en", language="en")
    )
    app = App(qapp, settings_path=str(ini), recovery=False)
    w = app.window
    w.resize(1280, 800)  # logical pixels; the image is scale times larger
    w.show()

    def wait(until, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            qapp.processEvents()
            if until():
                return True
            time.sleep(0.01)
        return False

    def shot(name: str) -> None:
        for _ in range(20):
            qapp.processEvents()
            time.sleep(0.01)
        path = OUT / f"{name}-{lang}-{scale}x.png"
        w.grab().save(str(path))
        print("wrote", path.relative_to(REPO), flush=True)

    wait(lambda: app.library.count() > 0, 20)
    titles = {m.title for m in app.library.list()}
    for audio in MEETINGS:  # the first run transcribes them through the window
        if audio.stem not in titles:
            app.add_files([str(audio)])
            row = app.files_model.rows[-1]
            wait(lambda r=row: app.files_model.get(r.job_id).state in FINISHED, 1200)
    for r in list(app.files_model.rows):
        app.files_model.remove(r.job_id)
    keep = {m.id for m in app.library.list()}  # what this run adds (a file, a live meeting) goes again

    # Library, with a search
    app.library_view.reload()
    w.show_view("library")
    shot("library")
    app.library_view.search("budget" if lang == "en" else "Chicago")
    shot("library-search")
    app.library_view.search("")

    # Transcript: the AMI meeting, played to 1:35
    meeting = next(m for m in app.library.list() if m.title == MEETINGS[0].stem)
    app.open_meeting(meeting.id)
    wait(app.editor.audio_ready, 60)
    app.editor.seek(95.0)
    shot("transcript")

    # Settings
    w.show_view("settings")
    shot("settings")

    # Files: one done, one error, one running
    broken = WORK / "broken recording.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    short = DATA / "asr_en" / "jfk.wav"
    long = DATA / "longform" / "en_asr_concat.wav"
    app.add_files([str(short), str(broken), str(long)])
    rows = app.files_model.rows
    wait(lambda: app.files_model.get(rows[0].job_id).state == DONE, 300)
    w.show_view("files")
    wait(lambda: app.files_model.get(rows[2].job_id).state == RUNNING and rows[2].fraction > 0.15, 600)
    w.show_view("files")
    shot("files")
    app.files.cancel(rows[2].job_id)
    wait(lambda: app.files_model.get(rows[2].job_id).state in FINISHED, 60)

    # Live, while it runs
    w.show_view("live")
    wait(lambda: app.live.ready, 120)
    live_audio = DATA / "diarization" / "pyannote_sample" / "sample.wav"
    app.live_view.agenda.setText("New Jersey; Chicago")
    app.live.start("", "", "New Jersey; Chicago", from_file=str(live_audio))
    wait(lambda: app.live.state == RECORDING, 120)
    wait(lambda: False, 22)
    shot("live")
    app.live.stop()
    wait(lambda: app.live.state == IDLE, 120)
    app.editor.flush()
    for m in app.library.list():
        if m.id not in keep:
            app.library.delete(m.id)
    app.shutdown()
    w.really_close()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--one", nargs=2, metavar=("LANG", "SCALE"))
    args = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_one(*args.one)
        return 0
    if not shutil.which("fc-list") or "CJK" not in subprocess.run(["fc-list"], capture_output=True, text=True).stdout:
        print("warning: no CJK font (apt-get install fonts-noto-cjk): Chinese would be boxes", file=sys.stderr)
    for lang in ("en", "zh"):
        for scale in ("1", "2"):
            subprocess.run([sys.executable, __file__, "--one", lang, scale], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
