"""Models fine-tuned here, exported to ONNX and kept by name in the user data folder.

Why: a user refers to their fine-tuned model by the name they chose (``minutes transcribe
--model clinic``, Settings), not by a folder; and the list of them, with where each came from
(base model, training data, dev WER before and after), tells which one to keep.

Layout: ``<data dir>/models/registered/<name>/onnx/`` is an exported-model folder
(engine/models/export_manifest.py) whose manifest's ``metadata`` holds the TrainingInfo, so a
copied folder still says where it came from; ``<name>/onnx-trimmed/`` is the live copy, made on
first use. A model is assembled in a hidden folder beside the others and renamed into place:
a name is there whole or not at all. Imports no torch: the window lists models through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.errors import ModelError
from engine.models.export_manifest import (
    EXPORT_MANIFEST,
    PRECISIONS,
    has_manifest,
    has_precision,
    read_export_manifest,
    write_export_manifest,
)
from engine.models.store import PACKAGED_ALIASES
from engine.paths import data_dir

MAX_NAME = 64
NAME_PUNCTUATION = "-_. "
EXPORTED = "onnx"  # <name>/onnx: the folder --model loads


@dataclass
class TrainingInfo:
    """Where a registered model came from; every field optional (a model may be registered by hand)."""

    base_model: str = ""
    manifest_sha256: str = ""  # of the training manifest (.jsonl): which data it learned from
    augmentations: dict = field(default_factory=dict)  # e.g. {"specaugment": {...}, "noise": {...}}
    steps: int | None = None
    dev_wer_before: float | None = None
    dev_wer_after: float | None = None
    date: str = ""  # ISO 8601; registering sets it when empty

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainingInfo:
        """The known fields of a manifest's metadata (other keys are kept there, not here)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RegisteredModel:
    name: str
    path: Path  # the exported folder (what resolve() loads)
    info: TrainingInfo
    precisions: list[str]
    size_bytes: int  # everything under the model's folder, the live copy included

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "path": str(self.path),
            **self.info.to_dict(),
            "precisions": self.precisions,
            "size_bytes": self.size_bytes,
        }


# What register() takes: an exported folder, or a function that exports into the path it is given
# (e.g. ``lambda out: export_model(model, out, name=..., tokenizer_json=...)``).
Source = str | os.PathLike[str] | Callable[[Path], object]


def registry_dir() -> Path:
    return data_dir() / "models" / "registered"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file (a training manifest), for TrainingInfo.manifest_sha256."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_name(name: str) -> str:
    """``name`` without surrounding spaces when it can name a model; ModelError saying why not."""
    text = str(name).strip()
    if text.casefold() in (a.casefold() for a in PACKAGED_ALIASES):
        raise ModelError(f"'{text}' is the built-in model's name: choose another name.")
    ok = (
        0 < len(text) <= MAX_NAME
        and text[0].isalnum()
        and not text.endswith(".")
        and all(c.isalnum() or c in NAME_PUNCTUATION for c in text)
    )
    if not ok:
        raise ModelError(
            f"'{name}' cannot name a model: use letters, digits, spaces and - _ . (at most {MAX_NAME} "
            "characters, starting with a letter or digit, not ending with a dot)."
        )
    return text


def find(name: str) -> Path | None:
    """The exported folder of the model registered as ``name`` (case does not matter), or None."""
    try:
        folder = _existing(check_name(name))
    except ModelError:
        return None
    return folder / EXPORTED if folder is not None and has_manifest(folder / EXPORTED) else None


def get(name: str) -> Path:
    """The exported folder of a registered model; ModelError when there is none of that name."""
    folder = find(name)
    if folder is None:
        _known(name)  # a bad or unknown name says so; a damaged one:
        raise ModelError(f"The model '{name}' is damaged (no readable export): remove it and register it again.")
    return folder


def list_models() -> list[RegisteredModel]:
    """Every registered model, by name; a damaged one is listed too (no precisions), so it can be removed."""
    root = registry_dir()
    if not root.is_dir():
        return []
    entries = [_entry(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(entries, key=lambda e: e.name.casefold())


def register(
    name: str, source: Source, metadata: TrainingInfo | dict | None = None, *, move: bool = False
) -> RegisteredModel:
    """Keep an exported model under ``name`` and return its RegisteredModel.

    ``source``: an exported folder (copied; moved with ``move=True``) or a function exporting into
    the path it is given. ``metadata`` (TrainingInfo, or a dict of JSON values) is merged into the
    manifest's, the date set to now when none is given. ModelError for a bad name or one already
    taken (checked before any export starts); a failure or a cancel (Cancelled) while exporting or
    copying leaves nothing registered."""
    name = check_name(name)
    _free(name)
    given = metadata.to_dict() if isinstance(metadata, TrainingInfo) else dict(metadata or {})
    json.dumps(given)  # TypeError now for what a manifest cannot hold, not after the export
    root = registry_dir()
    staging = root / f".{name}.{secrets.token_hex(4)}.partial"
    try:
        staging.mkdir(parents=True)
        out = staging / EXPORTED
        if callable(source):
            source(out)
        else:
            _bring(Path(source), out, move)
        if not any(has_precision(out, p) for p in PRECISIONS) or not (out / "tokenizer.json").is_file():
            raise ModelError(f"The export for '{name}' lacks its ONNX graphs or tokenizer.json: export it again.")
        manifest = read_export_manifest(out)
        manifest.name = name
        manifest.metadata.update(given)
        if not manifest.metadata.get("date"):
            manifest.metadata["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        write_export_manifest(out, manifest)
        _free(name)  # another process may have taken it meanwhile
        os.rename(staging, root / name)
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, OSError):
            raise ModelError(f"Cannot register the model '{name}' in '{root}': {e.strerror or e}.") from e
        raise
    return _entry(root / name)


def remove(name: str) -> None:
    """Delete a registered model (its exports and live copy); ModelError when there is none of that name."""
    folder = _known(name)
    trash = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.removing")
    try:
        os.rename(folder, trash)  # gone from the list at once, even if deleting the files takes a while
    except OSError as e:
        raise ModelError(f"Cannot remove the model '{name}': {e.strerror or e}.") from e
    shutil.rmtree(trash, ignore_errors=True)


def rename(old: str, new: str) -> RegisteredModel:
    """Give a registered model another name; ModelError for an unknown ``old`` or a bad or taken ``new``."""
    folder = _known(old)
    new = check_name(new)
    other = _existing(new)
    if other is not None and other != folder:
        _free(new)
    target = folder.with_name(new)
    try:
        os.rename(folder, target)
        for sub in (EXPORTED, f"{EXPORTED}-trimmed"):  # the name the app shows is the manifest's
            if has_manifest(target / sub):
                manifest = read_export_manifest(target / sub)
                manifest.name = new
                write_export_manifest(target / sub, manifest)
    except OSError as e:
        raise ModelError(f"Cannot rename the model '{old}' to '{new}': {e.strerror or e}.") from e
    return _entry(target)


def _existing(name: str) -> Path | None:
    """The folder registered under ``name``, its case ignored (two names differing only in case would
    be one folder on Windows and macOS)."""
    root = registry_dir()
    exact = root / name
    if exact.is_dir():
        return exact
    if not root.is_dir():
        return None
    wanted = name.casefold()
    return next((p for p in root.iterdir() if p.is_dir() and p.name.casefold() == wanted), None)


def _known(name: str) -> Path:
    folder = _existing(check_name(name))
    if folder is None:
        raise ModelError(f"No model named '{name}' is registered (minutes models list shows them).")
    return folder


def _free(name: str) -> None:
    taken = _existing(name)
    if taken is not None:
        raise ModelError(
            f"A model named '{taken.name}' is already registered: choose another name, or remove it first "
            f"(minutes models remove '{taken.name}')."
        )


def _bring(src: Path, out: Path, move: bool) -> None:
    if not has_manifest(src):
        raise ModelError(f"'{src}' is not an exported model folder (no {EXPORT_MANIFEST}).")
    if move:
        shutil.move(str(src), str(out))
    else:
        shutil.copytree(src, out)


def _entry(folder: Path) -> RegisteredModel:
    exported = folder / EXPORTED
    try:
        metadata = read_export_manifest(exported).metadata
    except ModelError:
        metadata = {}
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return RegisteredModel(
        name=folder.name,
        path=exported,
        info=TrainingInfo.from_dict(metadata),
        precisions=[p for p in PRECISIONS if has_precision(exported, p)],
        size_bytes=size,
    )
