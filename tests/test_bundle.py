"""The Linux runtime bundle, as a user gets it: built by installers/build.py, copied to a fresh
folder, run with no Python on PATH, no torch and no model conversion (issue 16).

Slow (a PyInstaller build, a few minutes on 2 cores), still run in CI. MINUTES_TEST_BUNDLE may
name an already built bundle folder to check instead of building one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JFK = ROOT / "resources" / "demo" / "jfk.wav"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle test builds the Linux bundle"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The bundle folder and the .deb, built once for this module."""
    given = os.environ.get("MINUTES_TEST_BUNDLE")
    if given:
        return {"bundle": Path(given), "deb": None}
    pytest.importorskip("PyInstaller", reason="pip install -e '.[dist]' (make dist) to build the bundle")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, str(ROOT / "installers" / "build.py"), "--dist", str(dist)], check=True, cwd=ROOT)
    bundle = next(p for p in dist.iterdir() if p.is_dir() and p.name.startswith("minutes-runtime-"))
    return {"bundle": bundle, "deb": next(dist.glob("minutes_*_amd64.deb"))}


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> dict:
    """The bundle copied to a clean folder, and an environment without Python or a network."""
    home = tmp_path_factory.mktemp("clean")
    app = home / "minutes"
    shutil.copytree(built["bundle"], app, symlinks=True)
    bin_dir = home / "bin"  # PATH: only the tools a desktop has that are not Python
    bin_dir.mkdir()
    env = {
        "PATH": str(bin_dir),
        "HOME": str(home),
        "MINUTES_DATA_DIR": str(home / "data"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "https_proxy": "http://127.0.0.1:9",  # any network use fails at once
        "http_proxy": "http://127.0.0.1:9",
        "HF_HUB_OFFLINE": "1",
    }
    assert shutil.which("python3", path=env["PATH"]) is None and shutil.which("python", path=env["PATH"]) is None
    return {"app": app, "env": env, "home": home}


def run(installed, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    exe = installed["app"] / args[0]
    return subprocess.run(
        [str(exe), *args[1:]],
        env=installed["env"],
        cwd=installed["home"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_bundle_has_no_torch_and_ships_the_exported_models(built):
    internal = built["bundle"] / "_internal"
    assert not (internal / "torch").exists()
    models = internal / "models"
    # Whisper once: the variable-length pair, and the export's manifest by which it is found
    assert (models / "whisper-base" / "onnx" / "minutes-model.json").is_file()
    assert not list((models / "whisper-base" / "onnx").glob("*/*.onnx"))
    for graph in ("encoder.onnx", "decoder.onnx"):
        assert (models / "whisper-base" / "onnx-trimmed" / "int8" / graph).is_file()
    assert sum(f.stat().st_size for f in models.rglob("*.onnx")) < 190e6  # 178 MB on 2026-12-02
    assert list((models / "campplus").glob("*.onnx")) and list((models / "ge2e").glob("*.onnx"))
    assert (models / "speakers" / "segmentation-3.0.onnx").is_file()
    assert (models / "vad" / "silero_vad_16k_sequence.onnx").is_file()


def test_version_without_python_on_path(installed):
    out = run(installed, "minutes", "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("minutes 0.1.0 (runtime)")


def test_transcribes_jfk_with_no_conversion_and_no_torch(installed):
    shutil.copy(JFK, installed["home"] / "jfk.wav")
    started = time.monotonic()
    out = run(installed, "minutes", "transcribe", "jfk.wav", "-o", "out", "-f", "json")
    took = time.monotonic() - started
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads((installed["home"] / "out" / "jfk.json").read_text(encoding="utf-8"))
    words = " ".join(w["word"] for s in doc["segments"] for w in s["words"]).lower()
    assert "ask not what your country can do for you" in " ".join(w.strip(" ,.") for w in words.split())
    assert doc["model"]["precision"] == "int8"
    assert not (installed["home"] / "data" / "models").exists(), "the bundle converted or copied a model"
    print(f"first transcription in the bundle: {took:.1f} s")


def test_frozen_app_never_imports_torch(installed):
    shutil.copy(JFK, installed["home"] / "jfk2.wav")
    code = (
        "import sys; from app.cli import main; rc = main(['transcribe', 'jfk2.wav', '-o', 'out2', '-f', 'json']); "
        "print('TORCH', 'torch' in sys.modules, 'RC', rc)"
    )
    out = run(installed, "minutes", "-c", code)
    assert "TORCH False RC 0" in out.stdout, out.stdout + out.stderr


def test_window_smoke_offscreen(installed):
    out = run(installed, "minutes-gui", "--smoke", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_deb_puts_both_commands_on_path_and_declares_portaudio(built, tmp_path):
    if built["deb"] is None:
        pytest.skip("MINUTES_TEST_BUNDLE given: no .deb built")
    info = subprocess.run(["dpkg-deb", "--field", str(built["deb"]), "Depends"], capture_output=True, text=True)
    assert "libportaudio2" in info.stdout
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(built["deb"]), str(root)], check=True)
    for cmd in ("minutes", "minutes-gui"):
        link = root / "usr" / "bin" / cmd
        assert os.readlink(link) == f"/opt/minutes/{cmd}"
        assert (root / "opt" / "minutes" / cmd).is_file()
    assert (root / "usr" / "share" / "applications" / "minutes.desktop").is_file()
    assert (root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "minutes.png").is_file()
