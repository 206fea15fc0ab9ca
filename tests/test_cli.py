"""`minutes transcribe` as a user runs it: files written, and one-line errors with status 2."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resources import DEMO_AUDIO

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", *args, "--threads", "2", "--device", "cpu"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("minutes: error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_transcribe_writes_json_srt_txt_beside_the_audio(tmp_path):
    audio = tmp_path / "kennedy speech.wav"
    shutil.copy(DEMO_AUDIO, audio)
    proc = run_cli(str(audio), "-f", "json,srt,txt", "--language", "en")
    assert proc.returncode == 0, proc.stderr
    assert "on CPU" in proc.stderr  # the provider in use is visible
    data = json.loads((tmp_path / "kennedy speech.json").read_text(encoding="utf-8"))
    assert set(data) >= {"version", "audio", "language", "model", "speakers", "chapters", "segments"}
    assert data["language"] == "en" and data["model"]["precision"] == "int8"
    seg = data["segments"][0]
    assert set(seg) >= {"start", "end", "speaker", "text", "words"}
    assert set(seg["words"][0]) == {"start", "end", "word", "probability"}
    assert "fellow Americans" in (tmp_path / "kennedy speech.txt").read_text(encoding="utf-8")
    srt = (tmp_path / "kennedy speech.srt").read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:0") and "-->" in srt and "your country" in srt


def test_many_files_to_an_output_dir_load_the_model_once(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.flac"
    shutil.copy(DEMO_AUDIO, a)
    import soundfile as sf

    data, sr = sf.read(DEMO_AUDIO)
    sf.write(b, data, sr)
    out = tmp_path / "out"
    proc = run_cli(str(a), str(b), "-o", str(out), "-f", "vtt")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("minutes: model ") == 1
    assert (out / "a.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    vtt = (out / "b.vtt").read_text(encoding="utf-8").splitlines()
    spoken = " ".join(re.sub(r"</?v[^>]*>", "", line) for line in vtt[1:] if line and "-->" not in line)
    assert "ask not what your country can do for you" in spoken


def test_missing_file(tmp_path):
    assert_one_line_error(run_cli(str(tmp_path / "nope.wav")), "File not found", "nope.wav")


def test_file_that_is_not_audio(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("agenda: budget, hiring\n" * 50)
    assert_one_line_error(run_cli(str(notes)), "notes.txt", "not an audio or video file")


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert_one_line_error(run_cli(str(empty)), "empty.wav", "empty")


def test_zero_length_audio(tmp_path):
    import numpy as np
    import soundfile as sf

    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    assert_one_line_error(run_cli(str(path)), "zero.wav", "no audio")


def test_bad_file_does_not_stop_the_good_ones(tmp_path):
    good = tmp_path / "good.wav"
    shutil.copy(DEMO_AUDIO, good)
    proc = run_cli(str(tmp_path / "missing.wav"), str(good), "-f", "txt")
    assert_one_line_error(proc, "missing.wav")
    assert "fellow Americans" in (tmp_path / "good.txt").read_text(encoding="utf-8")


def test_corrupt_model_folder(tmp_path):
    from engine.models import store

    src = store.resolve()
    model = tmp_path / "my-model"
    model.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(src.path / name, model / name)
    with open(src.path / "model.bin", "rb") as f:  # a download cut off half way
        (model / "model.bin").write_bytes(f.read(40_000_000))
    proc = run_cli(str(DEMO_AUDIO), "-o", str(tmp_path), "--model", str(model))
    assert_one_line_error(proc, "my-model", "corrupt")


def test_corrupt_packaged_model_cache_is_rebuilt(tmp_path):
    """A damaged copy in the data folder is replaced from the packages, not reported forever."""
    env = {"MINUTES_DATA_DIR": str(tmp_path / "data")}
    target = tmp_path / "data" / "models" / "whisper-base" / "ct2"
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"\0" * 1000)
    code = "from engine.models import store; print(store.resolve().path.joinpath('model.bin').stat().st_size)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert out.stdout.strip() == "145217532", out.stderr


def test_not_a_model(tmp_path):
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    assert_one_line_error(run_cli(str(DEMO_AUDIO), "--model", str(folder)), "holiday-photos", "model.bin")


def test_cuda_without_a_gpu_says_so():
    from engine.asr.runtime import nvidia_gpu_count

    if nvidia_gpu_count() > 0:
        pytest.skip("this machine has an NVIDIA GPU")
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", str(DEMO_AUDIO), "--device", "cuda"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(proc, "CUDA", "--device cpu")


def test_unknown_format():
    assert_one_line_error(run_cli(str(DEMO_AUDIO), "-f", "pdf"), "pdf")


def test_transcription_imports_no_torch_and_no_qt(recognizer):
    """ONNX files are the runtime format: once exported, transcribing needs neither torch nor Qt."""
    code = (
        "import sys; from engine.recognizer import Recognizer; from resources import DEMO_AUDIO; "
        "t = Recognizer(device='cpu', precision='int8', threads=2); text = t.transcribe(DEMO_AUDIO).text; "
        "print('fellow' in text, 'torch' in sys.modules, any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False", "False"], out.stderr


def test_ctrl_c_exits_130_with_one_line(tmp_path, data_dir):
    """Cancel is not an error: Ctrl-C during a transcription says so and exits 130 (not 2, no traceback)."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "transcribe", str(data_dir / "longform" / "en_asr_concat.wav"),
         "-o", str(tmp_path), "--threads", "2", "--device", "cpu", "-q"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen = []
    for line in proc.stderr:  # the model is loaded: transcription is under way
        seen.append(line)
        if line.startswith("minutes: model "):
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, "".join(seen) + rest
    assert "minutes: error: cancelled." in rest and "Traceback" not in rest
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_app_commands_import_one_way():
    """The commands share app/common.py and never import each other or the entry point (no circle)."""
    import ast

    for name in ("common", "export_cmd", "live_cmd", "cli_voices"):
        tree = ast.parse((REPO / "app" / f"{name}.py").read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        app = {m for m in modules if m == "app" or m.startswith("app.")}
        assert app <= ({"app.common"} if name != "common" else set()), (name, app)
