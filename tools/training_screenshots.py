"""Screenshots of the Training tab's six pages during a real (tiny) run, into docs/screenshots/.

    .venv/bin/python tools/training_screenshots.py          # English and Chinese, scale 1 and 2
    .venv/bin/python tools/training_screenshots.py --one zh --scale 2

Each language runs in its own process, offscreen, with a user data folder under
bench/out/training-screens/: six real clips of asr_en.tsv plus one missing clip (the checker's
report), a 4-step run of the packaged model (caught on the Train page mid-run, paused there and
resumed), then the Evaluate and Export pages once it is registered. `make screenshots` does the
other views.
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
WORK = REPO / "bench" / "out" / "training-screens"
OUT = REPO / "docs" / "screenshots"


def run_one(lang: str, scale: str = "1") -> None:
    os.environ["QT_SCALE_FACTOR"] = scale  # read when Qt starts: one process per scale
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    home = WORK / f"data-{lang}"
    shutil.rmtree(home / "training", ignore_errors=True)
    shutil.rmtree(home / "registry", ignore_errors=True)
    os.environ["MINUTES_DATA_DIR"] = str(home)
    sys.path.insert(0, str(REPO))
    import soundfile as sf
    from PySide6.QtWidgets import QApplication

    from app.settings import Preferences, Settings
    from app.window import App
    from engine.models import registry
    from engine.training.manifest import Utterance, write_manifest

    for m in registry.list_models():
        registry.remove(m.name)
    utts = []
    for line in (DATA / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:12]:
        rel, text = line.split("\t", 1)
        utts.append(Utterance(DATA / rel, text, round(sf.info(DATA / rel).duration, 3), "en"))
    utts.insert(5, Utterance(WORK / "deleted-clip.wav", "a clip that was deleted", 2.0, "en"))
    manifest = write_manifest(WORK / "team-meetings.jsonl", utts)

    qapp = QApplication([sys.argv[0]])
    ini = WORK / f"settings-{lang}.ini"
    ini.unlink(missing_ok=True)
    prefs = Preferences(data_folder=str(WORK / f"library-{lang}"), ui_language="zh_CN" if lang == "zh" else "en")
    Settings(str(ini)).save(prefs)
    app = App(qapp, settings_path=str(ini), recovery=False)
    w = app.window
    w.resize(1280, 800)
    w.show()
    view = app.training_view

    def wait(until, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            qapp.processEvents()
            if until():
                return True
            time.sleep(0.01)
        return False

    def shot(name: str, page) -> None:
        w.show_view("training")
        view.show_page(page)
        for _ in range(20):
            qapp.processEvents()
            time.sleep(0.01)
        path = OUT / f"training-{name}-{lang}-{scale}x.png"
        w.grab().save(str(path))
        print("wrote", path.relative_to(REPO), flush=True)

    view.data.request(str(manifest))
    wait(lambda: view.data.reports, 120)
    view.data.terms.setText("Dashwood; Kestrova")
    shot("data", view.data)
    view.data.exclude.click()
    shot("augment", view.augment)
    view.settings.steps.setValue(4)
    view.settings.batch.setValue(30)
    view.settings.extra = {"warmup_steps": 1, "eval_every": 2, "checkpoint_every": 2, "threads": 2, "patience": 0}
    view.augment.noise_on.setChecked(False)  # babble needs more voices than six clips
    shot("settings", view.settings)
    view.train.name.setText("team-names")
    view.train.start.click()
    wait(lambda: view.train.progress.value() >= 3 and bool(view.train.plot.wer), 900)
    shot("train", view.train)
    wait(lambda: not app.training.busy(), 1200)
    shot("evaluate", view.evaluate)
    wait(lambda: view.export.models.count() > 0, 60)
    shot("export", view.export)
    app.shutdown()
    w.really_close()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--one", metavar="LANG")
    p.add_argument("--scale", default="1", choices=["1", "2"])
    args = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_one(args.one, args.scale)
        return 0
    for lang in ("en", "zh"):
        for scale in ("1", "2"):
            subprocess.run([sys.executable, __file__, "--one", lang, "--scale", scale], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
