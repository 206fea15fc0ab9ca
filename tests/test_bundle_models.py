"""The read-only models an installer ships are found before the user cache (fast; no bundle)."""

from __future__ import annotations

import shutil

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
