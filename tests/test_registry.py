"""Exported-model registry (engine/models/registry.py), export_model and `minutes models`.

What a user notices: a fine-tuned model used by its name (`minutes transcribe --model NAME`),
listed with where it came from, renamed and removed; a taken, unknown or bad name said in one
line; a cancelled export that leaves nothing behind; word timestamps kept by saved weights.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.cli import main
from engine.errors import Cancelled, ModelError
from engine.models import registry, store
from engine.models.export_manifest import EXPORT_MANIFEST, ExportManifest, read_export_manifest, write_export_manifest
from engine.models.registry import TrainingInfo
from resources import DEMO_AUDIO

REPO = Path(__file__).resolve().parents[1]
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
INFO = TrainingInfo(
    base_model="whisper-base",
    manifest_sha256="0" * 64,
    augmentations={"specaugment": {"time_masks": 2}, "speed": [0.9, 1.1]},
    steps=120,
    dev_wer_before=0.25,
    dev_wer_after=0.125,
)


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()


@pytest.fixture
def registry_home(tmp_path, monkeypatch) -> Path:
    """An empty user data folder for the registry (the suite's model cache stays where it is)."""
    home = tmp_path / "data"
    monkeypatch.setenv("MINUTES_DATA_DIR", str(home))
    return home


def _fake_export(folder: Path, name: str = "fake") -> Path:
    """An exported folder's shape without real graphs: enough for names, lists and the CLI."""
    for precision in ("fp32", "int8"):
        (folder / precision).mkdir(parents=True)
        for graph in ("encoder.onnx", "decoder.onnx"):
            (folder / precision / graph).write_bytes(b"x" * 1000)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    write_export_manifest(folder, ExportManifest(name=name, dims={"n_text_layer": 1}, alignment_heads=[(0, 0)]))
    return folder


def _tiny_whisper():
    from engine.asr.model import ModelDims, Whisper

    dims = ModelDims(
        n_mels=80, n_audio_ctx=16, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
        n_vocab=64, n_text_ctx=16, n_text_state=32, n_text_head=2, n_text_layer=2,
    )  # fmt: skip
    model = Whisper(dims)
    model.alignment_heads = [(1, 0), (1, 1)]
    return model.eval()


@pytest.fixture(scope="module")
def base_int8(tmp_path_factory) -> Path:
    """The suite's cached export of the packaged model (made through export_model), int8 only, as a
    folder of its own: hard links, so nothing is exported or copied twice."""
    from engine.asr.onnx_export import ensure_exported

    cached = ensure_exported(store.resolve(), "int8")
    light = tmp_path_factory.mktemp("export") / "whisper-base-int8"
    (light / "int8").mkdir(parents=True)
    for rel in (EXPORT_MANIFEST, "tokenizer.json", "int8/encoder.onnx", "int8/decoder.onnx"):
        try:
            os.link(cached / rel, light / rel)
        except OSError:
            shutil.copyfile(cached / rel, light / rel)
    return light


# ----------------------------------------------------------------------------- the registry


def test_register_list_get_rename_remove(registry_home, tmp_path):
    src = _fake_export(tmp_path / "export")
    entry = registry.register("Clinic v1", src, INFO)
    assert src.is_dir()  # copied, not moved
    assert entry.name == "Clinic v1" and entry.precisions == ["fp32", "int8"] and entry.size_bytes >= 4000
    [listed] = registry.list_models()
    assert listed.info.base_model == "whisper-base" and listed.info.steps == 120
    assert listed.info.augmentations == INFO.augmentations and listed.info.date  # set when registered
    assert (listed.info.dev_wer_before, listed.info.dev_wer_after) == (0.25, 0.125)
    assert registry.get("clinic V1") == entry.path  # case does not matter
    source = store.resolve("Clinic v1")
    assert source.kind == "exported" and source.name == "Clinic v1" and source.path == entry.path

    renamed = registry.rename("Clinic v1", "clinic-2")
    assert renamed.name == "clinic-2" and read_export_manifest(renamed.path).name == "clinic-2"
    assert renamed.info == listed.info
    with pytest.raises(ModelError, match="No model named 'Clinic v1'"):
        registry.get("Clinic v1")
    registry.remove("clinic-2")
    assert registry.list_models() == [] and list(registry.registry_dir().iterdir()) == []
    with pytest.raises(ModelError, match="Model not found: 'clinic-2'"):
        store.resolve("clinic-2")


def test_names_are_checked_and_a_taken_name_is_refused(registry_home, tmp_path):
    src = _fake_export(tmp_path / "export")
    registry.register("Cardiology_2024.1", src, {"base_model": "whisper-base", "note": "kept"})
    assert read_export_manifest(registry.get("Cardiology_2024.1")).metadata["note"] == "kept"
    for taken in ("Cardiology_2024.1", "cardiology_2024.1 "):
        with pytest.raises(ModelError, match="already registered"):
            registry.register(taken, src)
    calls = []
    with pytest.raises(ModelError, match="already registered"):  # before any export starts
        registry.register("CARDIOLOGY_2024.1", calls.append)
    assert calls == []
    for bad in ("", "   ", "../up", "a/b", ".hidden", "ends.", "x" * 65, "tab\tname", "semi;colon"):
        with pytest.raises(ModelError, match="cannot name a model"):
            registry.register(bad, src)
    for reserved in ("base", "Whisper-Base"):
        with pytest.raises(ModelError, match="built-in model"):
            registry.register(reserved, src)
    registry.register("Kardiologie Köln", src)  # letters are letters in any script
    with pytest.raises(ModelError, match="already registered"):
        registry.rename("Kardiologie Köln", "cardiology_2024.1")
    for unknown in (registry.get, registry.remove):
        with pytest.raises(ModelError, match="No model named 'nope'"):
            unknown("nope")
    with pytest.raises(ModelError, match="is not an exported model folder"):
        registry.register("empty", tmp_path)
    assert [m.name for m in registry.list_models()] == ["Cardiology_2024.1", "Kardiologie Köln"]


def test_a_failed_or_cancelled_registration_leaves_nothing(registry_home, tmp_path):
    def cancelled(out: Path) -> None:
        _fake_export(out)
        raise Cancelled("Export cancelled.")

    with pytest.raises(Cancelled):
        registry.register("half", cancelled)
    with pytest.raises(ModelError, match="lacks its ONNX graphs"):
        registry.register("nothing", lambda out: out.mkdir())
    assert registry.list_models() == [] and list(registry.registry_dir().iterdir()) == []


# ----------------------------------------------------------------------------- export_model and weights


def test_export_model_writes_the_folder_format_and_leaves_the_model_as_it_was(registry_home, tmp_path):
    import torch

    from engine.asr.onnx_export import export_model

    model = _tiny_whisper()
    tok = _fake_export(tmp_path / "fake") / "tokenizer.json"
    seen = []
    entry = registry.register(
        "tiny",
        lambda out: export_model(
            model,
            out,
            name="tiny-export",
            tokenizer_json=tok,
            metadata={"steps": 3},
            progress=lambda stage, f: seen.append((stage, f)),
        ),  # fmt: skip
        INFO,
    )
    assert entry.precisions == ["fp32", "fp16", "int8"]
    manifest = read_export_manifest(entry.path)
    assert manifest.alignment_heads == [(1, 0), (1, 1)] and manifest.dims["n_text_state"] == 32
    assert manifest.name == "tiny" and manifest.metadata["steps"] == 120  # the registry's metadata wins
    assert [f for _, f in seen] == sorted(f for _, f in seen) and seen[-1] == ("Model ready", 1.0)
    assert next(p.dtype for p in model.parameters()) == torch.float32  # fp16 came from a copy
    source = store.resolve("tiny")
    assert source.alignment_heads == [(1, 0), (1, 1)]


@pytest.mark.parametrize("kind", ["event", "callable"])
def test_a_cancelled_export_leaves_no_folder(tmp_path, kind):
    from engine.asr.onnx_export import export_model

    tok = _fake_export(tmp_path / "fake") / "tokenizer.json"
    event = threading.Event()
    cancel = event if kind == "event" else event.is_set
    stages = []

    def progress(stage: str, fraction: float) -> None:
        stages.append(stage)
        if stage == "Exporting decoder":
            event.set()  # the user cancels while the decoder is exported

    out = tmp_path / "models" / "tiny"
    with pytest.raises(Cancelled):
        export_model(_tiny_whisper(), out, name="tiny", tokenizer_json=tok, progress=progress, cancel=cancel)
    assert stages == ["Exporting encoder", "Exporting decoder"]
    assert not out.exists() and list(out.parent.iterdir()) == []
    out.mkdir()
    (out / "x").write_text("taken", encoding="utf-8")
    with pytest.raises(ModelError, match="already exists"):
        export_model(_tiny_whisper(), out, ("fp32",), name="tiny", tokenizer_json=tok)


def test_state_dict_round_trip_keeps_alignment_heads(tmp_path):
    import torch

    from engine.asr.convert import build_model
    from engine.asr.model import Whisper

    model = _tiny_whisper()
    path = tmp_path / "weights.pt"
    torch.save(model.state_dict(), path)
    fresh = Whisper(model.dims)
    fresh.load_state_dict(torch.load(path, weights_only=True))
    assert fresh.alignment_heads == model.alignment_heads == [(1, 0), (1, 1)]
    # weights saved before the heads were kept with them still load, strictly; the loader sets defaults
    old = {k: v for k, v in model.state_dict().items() if k != "alignment_mask"}
    Whisper(model.dims).load_state_dict(old)
    assert build_model(model.dims, old).alignment_heads == [(1, 0), (1, 1)]  # defaults: the upper half
    assert build_model(model.dims, model.state_dict(), [(0, 1)]).alignment_heads == [(0, 1)]


def test_the_packaged_export_keeps_the_packaged_heads(base_int8):
    assert read_export_manifest(base_int8).alignment_heads == store.resolve().alignment_heads


# ----------------------------------------------------------------------------- the command line


def test_models_list_rename_remove_on_the_command_line(registry_home, tmp_path, capsys):
    assert main(["models", "list"]) == 0
    assert "No fine-tuned models" in capsys.readouterr().out
    registry.register("clinic", _fake_export(tmp_path / "export"), INFO)
    assert main(["models", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["name", "base", "precisions"]
    assert row.split()[:6] == ["clinic", "whisper-base", "fp32,int8", "25.0%", "→", "12.5%"]
    assert main(["models", "list", "--json"]) == 0
    [data] = json.loads(capsys.readouterr().out)
    assert data["name"] == "clinic" and data["dev_wer_after"] == 0.125 and data["precisions"] == ["fp32", "int8"]
    assert data["size_bytes"] > 0 and data["manifest_sha256"] == "0" * 64
    assert main(["models", "rename", "clinic", "clinic 2"]) == 0
    assert main(["models", "remove", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minutes: error: No model named 'nope'")
    assert main(["models", "rename", "clinic 2", "a/b"]) == 2
    assert "cannot name a model" in capsys.readouterr().err
    assert main(["models", "remove", "clinic 2"]) == 0
    assert registry.list_models() == []


def test_transcribe_with_a_registered_model_name(registry_home, base_int8, tmp_path):
    registry.register("kennedy", base_int8, INFO)
    args = ["--model", "kennedy", "-o", str(tmp_path), "-f", "txt", "--language", "en", "--no-diarize"]
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", str(DEMO_AUDIO), *args, "--threads", "2", "--device", "cpu"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MINUTES_DATA_DIR": str(registry_home)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "model kennedy (int8) on CPU" in proc.stderr
    text = (tmp_path / "jfk.txt").read_text(encoding="utf-8")
    assert _words(text) == _words(JFK), text
