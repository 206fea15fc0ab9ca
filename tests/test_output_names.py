"""No result overwritten: inputs named alike keep their own transcripts, and an edited transcript
(or any file Minutes did not write as it is now) is kept, the new result beside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resources import DEMO_AUDIO

REPO = Path(__file__).resolve().parents[1]
ASK = "ask not what your country can do"


def words(text: str) -> str:
    return " ".join("".join(c.lower() if c.isalnum() else " " for c in text).split())


def spoken(path: Path) -> str:
    """The words of a .txt or .json transcript, lower case, no punctuation."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        text = " ".join(s["text"] for s in json.loads(text)["segments"])
    return words(text)


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of its own, so the fingerprints start empty."""
    data = tmp_path / "data"
    monkeypatch.setenv("MINUTES_DATA_DIR", str(data))
    return data / "written.json"


def test_only_colliding_stems_get_full_names_whatever_the_order(tmp_path: Path) -> None:
    from engine.export.naming import output_names

    a, b, c = tmp_path / "talk.mp4", tmp_path / "talk.m4a", tmp_path / "notes.wav"
    assert output_names([a, b, c], [tmp_path] * 3) == ["talk.mp4", "talk.m4a", "notes"]
    assert output_names([c, b, a], [tmp_path] * 3) == ["notes", "talk.m4a", "talk.mp4"]
    assert output_names([a, tmp_path / "Talk.webm"], [tmp_path] * 2) == ["talk.mp4", "Talk.webm"]  # case-blind
    # beside each file, in different folders: no collision, plain names
    assert output_names([a, tmp_path / "x" / "talk.m4a"], [tmp_path, tmp_path / "x"]) == ["talk", "talk"]
    assert output_names([a, a], [tmp_path] * 2) == ["talk", "talk"]  # the same file twice: numbered later


def test_targets_replace_only_unchanged_own_files(tmp_path: Path, record: Path) -> None:
    from engine.export.naming import choose_targets, remember

    out = tmp_path / "out"
    out.mkdir()
    first = choose_targets(out, "talk", ["json", "txt"])
    assert first.paths == [out / "talk.json", out / "talk.txt"] and not first.moved and first.message() == ""
    for p in first.paths:
        p.write_text("by minutes\n")
    remember(first.paths)
    assert record.exists()
    # unchanged since Minutes wrote them: a new run replaces them
    assert choose_targets(out, "talk", ["json", "txt"]).paths == first.paths
    # one of them edited: kept, and all formats of the new result move together
    (out / "talk.json").write_text("by minutes, then corrected by hand\n")
    moved = choose_targets(out, "talk", ["json", "txt"])
    assert moved.paths == [out / "talk.1.json", out / "talk.1.txt"] and moved.kept == [out / "talk.json"]
    line = moved.message(" (--overwrite replaces it)")
    assert "kept" in line and str(out / "talk.json") in line and str(out / "talk.1.json") in line
    assert "--overwrite" in line and "\n" not in line
    assert choose_targets(out, "talk", ["json"], overwrite=True).paths == [out / "talk.json"]
    # the numbered result, once written by Minutes, is itself replaced next time (no talk.2, talk.3 pile)
    for p in moved.paths:
        p.write_text("second\n")
    remember(moved.paths)
    assert choose_targets(out, "talk", ["json", "txt"]).paths == moved.paths
    # a file from another program (or an older Minutes) is kept too
    (out / "notes.txt").write_text("my own notes\n")
    assert choose_targets(out, "notes", ["txt"]).paths == [out / "notes.1.txt"]
    # a file this run wrote is never replaced by the next result of the run, though it is Minutes'
    clash = choose_targets(out, "talk.1", ["txt"], taken={out / "talk.1.txt"})
    assert clash.paths == [out / "talk.1.1.txt"] and clash.clash and "same name" in clash.message()


def test_a_lost_record_keeps_files(tmp_path: Path, record: Path) -> None:
    from engine.export.naming import choose_targets, remember

    (tmp_path / "a.txt").write_text("x")
    remember([tmp_path / "a.txt"])
    record.write_text("{not json")
    assert choose_targets(tmp_path, "a", ["txt"]).paths == [tmp_path / "a.1.txt"]
    remember([tmp_path / "a.txt"])  # a damaged record is started again, not an error
    assert choose_targets(tmp_path, "a", ["txt"]).paths == [tmp_path / "a.txt"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", *args, "--threads", "2", "--device", "cpu", "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_names_alike_keep_their_own_transcripts_and_an_edit_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`minutes transcribe talk.wav talk.flac -f txt,json` twice, editing one transcript between."""
    import soundfile as sf

    from app.cli import main

    wav, flac = tmp_path / "talk.wav", tmp_path / "talk.flac"
    shutil.copy(DEMO_AUDIO, wav)
    data, rate = sf.read(DEMO_AUDIO)
    sf.write(flac, data, rate)
    args = (str(wav), str(flac), "-f", "txt,json", "--language", "en", "--no-diarize", "--no-chapters")
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "full file name" in proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".txt", ".json"))
    assert names == ["talk.flac.json", "talk.flac.txt", "talk.wav.json", "talk.wav.txt"]
    for name in names:
        assert ASK in spoken(tmp_path / name), name

    # a person corrects the WAV's transcript; the same command runs again
    edited = json.loads((tmp_path / "talk.wav.json").read_text(encoding="utf-8"))
    edited["segments"][0]["text"] = " Corrected by hand."
    (tmp_path / "talk.wav.json").write_text(json.dumps(edited, indent=2), encoding="utf-8")
    before = (tmp_path / "talk.wav.json").read_bytes()
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "talk.wav.json").read_bytes() == before, "the edited transcript was replaced"
    kept = [line for line in proc.stderr.splitlines() if line.startswith("minutes: kept")]
    assert len(kept) == 1 and str(tmp_path / "talk.wav.json") in kept[0] and "talk.wav.1.json" in kept[0], kept
    for name in ("talk.wav.1.json", "talk.wav.1.txt"):  # this run's result, together under one number
        assert ASK in spoken(tmp_path / name), name
    assert not (tmp_path / "talk.flac.1.json").exists(), "an unedited result of Minutes is updated in place"

    # `minutes export` keeps the same rule: the hand-corrected JSON replaces the (unedited) text
    # export, but not a text file the person changed
    assert main(["export", str(tmp_path / "talk.wav.json"), "-f", "txt"]) == 0
    assert "Corrected by hand." in (tmp_path / "talk.wav.txt").read_text(encoding="utf-8")
    (tmp_path / "talk.flac.txt").write_text("my notes on the speech\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["export", str(tmp_path / "talk.flac.json"), "-f", "txt", "--no-times"]) == 0
    assert (tmp_path / "talk.flac.txt").read_text(encoding="utf-8") == "my notes on the speech\n"
    assert ASK in spoken(tmp_path / "talk.flac.1.txt")
    assert "talk.flac.1.txt" in capsys.readouterr().err
