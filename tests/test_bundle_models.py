"""The read-only models an installer ships are found before the user cache (fast; no bundle)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import bundle
from engine.audio import vad
from engine.paths import bundled_model, bundled_models_dir
from engine.speakers import model_files


def test_no_bundled_models_outside_a_bundle(monkeypatch):
    monkeypatch.delenv("MINUTES_BUNDLED_MODELS", raising=False)
    assert bundled_models_dir() is None
    assert bundled_model("vad") is None


def test_vad_comes_from_the_bundled_folder_first(monkeypatch, tmp_path):
    src = vad.find_model_dir()
    (tmp_path / "vad").mkdir()
    shutil.copy(src / "silero_vad_16k_sequence.onnx", tmp_path / "vad")
    monkeypatch.setenv("MINUTES_BUNDLED_MODELS", str(tmp_path))
    assert vad.find_model_dir() == tmp_path / "vad"


def test_segmentation_model_comes_from_the_bundle_and_is_still_verified(monkeypatch, tmp_path):
    try:
        real = model_files.locate(model_files.SEGMENTATION)
    except Exception as e:  # the package is optional
        pytest.skip(str(e))
    (tmp_path / "speakers").mkdir()
    monkeypatch.setenv("MINUTES_BUNDLED_MODELS", str(tmp_path))
    shutil.copy(real, tmp_path / "speakers" / real.name)
    assert model_files.locate(model_files.SEGMENTATION) == tmp_path / "speakers" / real.name
    (tmp_path / "speakers" / real.name).write_bytes(b"not a model")
    with pytest.raises(Exception, match="damaged"):
        model_files.locate(model_files.SEGMENTATION)


def test_training_reason_says_what_to_install(monkeypatch):
    monkeypatch.setattr(bundle, "training_available", lambda: False)
    assert "torch" in bundle.training_unavailable_reason().lower()
    monkeypatch.setattr(bundle.sys, "frozen", True, raising=False)
    assert "full variant" in bundle.training_unavailable_reason()
    monkeypatch.setattr(bundle, "training_available", lambda: True)
    assert bundle.training_unavailable_reason() is None


def test_whisper_runs_from_the_variable_length_copy_alone(recognizer, monkeypatch, tmp_path):
    """An installer ships Whisper's variable-length copy and the export's manifest only (no second
    encoder or decoder): the recognizer needs no preparation, loads it and transcribes."""
    from engine.asr.variable_length import variable_length_dir
    from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
    from engine.recognizer import Recognizer, RecognizerSpec, needs_preparation

    export = recognizer.model.folder.parent / "onnx"
    ready = variable_length_dir(export)
    shipped = tmp_path / "whisper-base"
    (shipped / "onnx").mkdir(parents=True)
    for name in ("minutes-model.json", "tokenizer.json"):
        shutil.copy(export / name, shipped / "onnx" / name)
    shutil.copytree(ready, shipped / "onnx-trimmed")
    monkeypatch.setenv("MINUTES_BUNDLED_MODELS", str(tmp_path))
    spec = RecognizerSpec(precision="int8", threads=2)
    assert not needs_preparation(spec)
    loaded = Recognizer(precision="int8", threads=2)
    assert loaded.model.folder == shipped / "onnx-trimmed" and loaded.live_model() is loaded.model
    opts = TranscribeOptions(
        asr=AsrOptions(language="en"), speakers=SpeakerOptions(enabled=False), chapters=ChapterOptions(enabled=False)
    )
    text = loaded.transcribe(Path(__file__).resolve().parents[1] / "resources" / "demo" / "jfk.wav", opts).text.lower()
    assert "ask not what your country can do for you" in text
    assert not any((shipped / "onnx").glob("*/*.onnx"))  # nothing was exported into it
