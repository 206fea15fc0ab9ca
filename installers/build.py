"""Build the Minutes bundle(s) for this platform into dist/: models exported, then PyInstaller.

Why a script and not only a spec: the models are exported at build time (torch is in the build
venv, never in the runtime bundle), and the packages around the bundle (tarball, .deb) are
plain file layouts. ``make dist`` runs ``python installers/build.py``; ``--variant`` picks
``runtime`` (CPU, no torch; the default), ``runtime-cuda`` (adds the fp16 models and ONNX
Runtime's CUDA provider) or ``full`` (adds torch for the Training tab).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.bundle import __version__  # noqa: E402

VARIANTS = ("runtime", "runtime-cuda", "full")
PACKAGED = "whisper-base"

_EXPORT = """
from engine.models import store
from engine.asr.onnx_export import ensure_exported
from engine.asr.variable_length import ensure_variable_length
from engine.speakers import campplus, embedding
source = store.packaged_model()
for p in {precisions!r}:
    ensure_variable_length(ensure_exported(source, p), p)
print(campplus._model_path()); print(embedding._model_path())
"""


def precisions(variant: str) -> list[str]:
    """INT8 for the CPU everywhere; fp16 too where the bundle can run on CUDA."""
    return ["int8", "fp16"] if variant == "runtime-cuda" else ["int8"]


def export_models(cache: Path, wanted: list[str]) -> None:
    """Run the app's own first-use exports once, in a process with torch, into ``cache``."""
    env = {**os.environ, "MINUTES_DATA_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("MINUTES_BUNDLED_MODELS", None)
    subprocess.run([sys.executable, "-c", _EXPORT.format(precisions=wanted)], env=env, cwd=ROOT, check=True)


def stage_models(cache: Path, out: Path, wanted: list[str]) -> Path:
    """Copy what the runtime loads into ``out``, laid out as the user cache (engine/paths.py)."""
    from engine.audio.vad import find_model_dir
    from engine.speakers import model_files

    if out.exists():
        shutil.rmtree(out)
    models = cache / "models"
    # The recognizer runs on the variable-length copy alone (engine/recognizer.py): the export's
    # folder ships its manifest and tokenizer only, which is how the bundled model is found.
    for folder in ("onnx", "onnx-trimmed"):
        src, dst = models / PACKAGED / folder, out / PACKAGED / folder
        dst.mkdir(parents=True)
        for name in ("minutes-model.json", "tokenizer.json"):
            shutil.copy2(src / name, dst / name)
        if folder == "onnx-trimmed":
            for p in wanted:
                shutil.copytree(src / p, dst / p)
    for kind in ("campplus", "ge2e"):
        shutil.copytree(models / kind, out / kind, ignore=shutil.ignore_patterns("*.tmp"))
    (out / "speakers").mkdir()
    shutil.copy2(model_files.locate(model_files.SEGMENTATION), out / "speakers")
    (out / "vad").mkdir()
    for name in ("silero_vad_16k_sequence.onnx", "silero_vad.onnx"):
        shutil.copy2(find_model_dir() / name, out / "vad" / name)
    return out


def pyinstaller(variant: str, models: Path, work: Path, dist: Path) -> Path:
    """Freeze the checkout (not an installed copy) with installers/minutes.spec."""
    env = {
        **os.environ,
        "MINUTES_ROOT": str(ROOT),
        "MINUTES_MODELS": str(models),
        "MINUTES_VARIANT": variant,
        "MINUTES_BUILD": str(work),
    }
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN"]
    cmd += ["--distpath", str(dist), "--workpath", str(work), str(ROOT / "installers" / "minutes.spec")]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return dist / "minutes"


def platform_tag() -> str:
    machine = os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE", "x86_64")
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{machine.lower()}"


def make_tarball(bundle: Path, out: Path) -> Path:
    """A .tar.gz of the folder, links kept: unpack anywhere and run ./minutes or ./minutes-gui."""
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=out.name.removesuffix(".tar.gz"))
    return out


def du(path: Path) -> int:
    """Bytes on disk of a folder's files (links counted once, as they are stored)."""
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def build(variant: str, dist_root: Path, packages: bool) -> Path:
    build_root = ROOT / "build"
    wanted = precisions(variant)
    started = time.monotonic()
    export_models(build_root / "model-cache", wanted)
    models = stage_models(build_root / "model-cache", build_root / f"models-{variant}", wanted)
    frozen = pyinstaller(variant, models, build_root / f"pyinstaller-{variant}", build_root / f"frozen-{variant}")
    if sys.platform.startswith("linux"):
        (frozen / "minutes-gui").symlink_to("minutes")  # installers/entry.py starts the window by this name
    name = f"minutes-{variant}-{__version__}-{platform_tag()}"
    bundle = dist_root / name
    if bundle.exists():
        shutil.rmtree(bundle)
    dist_root.mkdir(parents=True, exist_ok=True)
    shutil.move(str(frozen), bundle)
    print(f"bundle: {bundle} ({du(bundle) / 1e6:.0f} MB, {time.monotonic() - started:.0f} s)")
    if packages and sys.platform.startswith("linux"):
        from installers.linux.deb import make_deb

        tar = make_tarball(bundle, dist_root / f"{name}.tar.gz")
        print(f"tarball: {tar} ({tar.stat().st_size / 1e6:.0f} MB)")
        deb = make_deb(bundle, dist_root, variant, __version__)
        print(f"deb: {deb} ({deb.stat().st_size / 1e6:.0f} MB)")
    return bundle


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", choices=VARIANTS, action="append", help="what to build (default: runtime)")
    p.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    p.add_argument("--no-packages", action="store_true", help="the bundle folder only (no tarball, no .deb)")
    p.add_argument("--models-only", type=Path, metavar="DIR", help="export and stage the models into DIR, no bundle")
    args = p.parse_args(argv)
    if args.models_only:  # the container build: models for MINUTES_BUNDLED_MODELS
        wanted = precisions((args.variant or ["runtime-cuda"])[0])
        export_models(ROOT / "build" / "model-cache", wanted)
        stage_models(ROOT / "build" / "model-cache", args.models_only.resolve(), wanted)
        return 0
    for variant in args.variant or ["runtime"]:
        build(variant, args.dist.resolve(), not args.no_packages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
