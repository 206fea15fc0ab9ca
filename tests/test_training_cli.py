"""`minutes train`: bad input stops before any work, with one line and exit 2; a real (short)
fine-tune of the packaged model ends registered and usable by `minutes transcribe --model`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.training.manifest import Utterance, write_manifest

REPO = Path(__file__).resolve().parents[1]
SUITE_DATA = Path(os.environ["MINUTES_DATA_DIR"])


@pytest.fixture
def home(tmp_path) -> Path:
    """A user data folder of its own (registry, runs), sharing the suite's model cache."""
    home = tmp_path / "data"
    (home / "models").mkdir(parents=True)
    for cached in ("whisper-base", "ge2e"):
        if (SUITE_DATA / "models" / cached).exists():
            (home / "models" / cached).symlink_to(SUITE_DATA / "models" / cached)
    return home


def run(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "MINUTES_DATA_DIR": str(home), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "app.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("minutes: error:"), r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def clips(data_dir) -> list[Utterance]:
    import soundfile as sf

    out = []
    for line in (data_dir / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:6]:
        rel, text = line.split("\t", 1)
        out.append(Utterance(data_dir / rel, text, round(sf.info(data_dir / rel).duration, 3), "en"))
    return out


def test_bad_input_says_what_and_trains_nothing(home, tmp_path, clips):
    good = write_manifest(tmp_path / "dev.jsonl", clips[:2])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    missing = write_manifest(tmp_path / "missing.jsonl", [Utterance(tmp_path / "gone.wav", "hello", 1.0, "en")])
    typo = tmp_path / "config.toml"
    typo.write_text("[train]\nsteps = 2\nlearning_rate = 0.1\n", encoding="utf-8")
    base = ("train", "--dev", str(good), "--general", "none")

    msg = one_line_error(run(home, *base, "--train", str(empty), "--name", "a"))
    assert "empty.jsonl" in msg
    msg = one_line_error(run(home, *base, "--train", str(missing), "--name", "a"))
    assert "missing.jsonl" in msg and "minutes data check" in msg
    msg = one_line_error(run(home, *base, "--train", str(good), "--name", "a", "--config", str(typo)))
    assert "learning_rate" in msg
    msg = one_line_error(run(home, *base, "--train", str(good), "--name", "base"))
    assert "base" in msg
    # a name that is taken: refused before anything is trained
    taken = home / "models" / "registered" / "taken" / "onnx"
    _fake_export(taken, "taken")
    msg = one_line_error(run(home, *base, "--train", str(good), "--name", "taken"))
    assert "already exists" in msg
    assert not (home / "training").exists() or not any((home / "training").iterdir())


def _fake_export(folder: Path, name: str) -> None:
    from engine.models.export_manifest import ExportManifest, write_export_manifest

    for precision in ("fp32", "int8"):
        (folder / precision).mkdir(parents=True)
        for graph in ("encoder.onnx", "decoder.onnx"):
            (folder / precision / graph).write_bytes(b"x" * 100)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    write_export_manifest(folder, ExportManifest(name=name, dims={"n_text_layer": 1}, alignment_heads=[(0, 0)]))


@pytest.mark.slow
def test_a_short_fine_tune_is_registered_and_transcribes(home, tmp_path, clips):
    train = write_manifest(tmp_path / "train.jsonl", clips[:4])
    dev = write_manifest(tmp_path / "dev.jsonl", clips[4:6])
    word = clips[0].text.split()[1].strip(",.")
    args = ["train", "--train", str(train), "--dev", str(dev), "--name", "team-base", "--general", "none"]
    args += ["--set", "steps=2", "--set", "warmup_steps=1", "--set", "batch_seconds=30", "--set", "eval_every=0"]
    r = run(home, *args, "--terms", word, "--json", timeout=1500)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["name"] == "team-base" and summary["steps"] == 2
    before, after = summary["before"]["dev"], summary["after"]["dev"]
    assert before["rate"] < 0.2 and after["rate"] < 0.2  # two careful steps break nothing
    # the run's event log tells the whole story, in order
    events = [json.loads(x) for x in (home / "training" / "team-base" / "events.jsonl").read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "stage" and "step" in kinds and kinds[-1] == "done"
    assert [e["message"] for e in events if e["type"] == "result"] == ["before", "after"]
    # listed, and usable by name
    listed = json.loads(run(home, "models", "list", "--json").stdout)
    entry = next(m for m in listed if m["name"] == "team-base")
    assert entry["steps"] == 2 and entry["dev_wer_after"] == after["rate"]
    out = tmp_path / "out"
    r = run(home, "transcribe", str(REPO / "resources" / "demo" / "jfk.wav"), "--model", "team-base",
            "--precision", "int8", "-f", "json", "-o", str(out), "-q", "--no-diarize")  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = json.loads((out / "jfk.json").read_text())["segments"]
    assert "country" in " ".join(s["text"] for s in text).lower()
