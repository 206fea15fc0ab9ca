"""The exported-model folder format (``minutes-model.json`` and the ONNX files beside it), read and
written here only.

Why one module: the export writes the manifest, the store turns it into a ModelSource, the
runtime reads dims and suppress lists from it, the registry keeps training metadata in it; if
each read the JSON its own way, a field added by one would be lost or misread by another.
Imports no torch and no onnxruntime (the window lists registered models through it).

    <folder>/minutes-model.json       name, dims, alignment heads, suppress lists, metadata
    <folder>/tokenizer.json
    <folder>/<precision>/encoder.onnx, decoder.onnx
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ModelError

EXPORT_MANIFEST = "minutes-model.json"
FORMAT = 1  # optional keys may be added within a format; readers ignore keys they do not know
GRAPHS = ("encoder.onnx", "decoder.onnx")
PRECISIONS = ("fp32", "fp16", "int8")  # the <precision>/ folders an export may hold


@dataclass
class ExportManifest:
    """What an exported model folder says about its model."""

    name: str  # display name ("whisper-base", or a registered model's name)
    dims: dict[str, int]  # ModelDims as a dict (n_vocab, n_text_layer, ...)
    alignment_heads: list[tuple[int, int]] = field(default_factory=list)  # (layer, head): word timestamps
    suppress_ids: list[int] | None = None
    suppress_ids_begin: list[int] | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))
    metadata: dict = field(default_factory=dict)  # where the model came from (training runs, registry)

    def to_json(self) -> str:
        """The file's text; TypeError when ``metadata`` holds something JSON cannot store."""
        data = {
            "format": FORMAT,
            "name": self.name,
            "dims": self.dims,
            "alignment_heads": [list(h) for h in self.alignment_heads],
            "suppress_ids": self.suppress_ids,
            "suppress_ids_begin": self.suppress_ids_begin,
            "created": self.created,
        }
        if self.metadata:
            data["metadata"] = self.metadata
        return json.dumps(data, indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict, folder: Path) -> ExportManifest:
        return cls(
            name=data.get("name") or folder.name,
            dims=dict(data["dims"]),
            alignment_heads=[(int(h[0]), int(h[1])) for h in data.get("alignment_heads") or []],
            suppress_ids=data.get("suppress_ids"),
            suppress_ids_begin=data.get("suppress_ids_begin"),
            created=data.get("created", ""),
            metadata=dict(data.get("metadata") or {}),
        )


def has_manifest(folder: Path) -> bool:
    return (folder / EXPORT_MANIFEST).is_file()


def has_precision(folder: Path, precision: str) -> bool:
    """True when ``folder`` is an exported model with both graphs of ``precision``."""
    return has_manifest(folder) and all((folder / precision / g).is_file() for g in GRAPHS)


def read_export_manifest(folder: Path) -> ExportManifest:
    """The manifest of an exported folder; ModelError (one line, what to do) when it is missing or damaged."""
    path = folder / EXPORT_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ExportManifest.from_dict(data, folder)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"
        raise ModelError(f"'{folder}' has no readable {EXPORT_MANIFEST} ({reason}). Export the model again.") from e


def write_export_manifest(folder: Path, manifest: ExportManifest) -> None:
    """Write (or replace) the manifest atomically: a reader sees the old file or the new one."""
    from engine.atomic import replace_atomically

    replace_atomically(folder / EXPORT_MANIFEST, manifest.to_json().encode("utf-8"))
