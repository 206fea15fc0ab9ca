"""The Linux bundle as a .deb (dpkg-deb): /opt/minutes, both commands on PATH, menu entry, icon.

Why dpkg-deb and a file layout: the bundle is already self-contained, so the package only places
it and declares what comes from the system: PortAudio (live capture; the Python wheel has no
copy of it on Linux), and, recommended, pactl and ALSA's pulse plugin, through which
PulseAudio/PipeWire sources (a call's *.monitor) are listed and opened.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ICON = HERE.parent / "icons" / "minutes.png"

# Qt's xcb platform plugin needs these X libraries on a desktop; the offscreen platform none.
DEPENDS = [
    "libportaudio2",
    "libc6 (>= 2.36)",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libdbus-1-3",
]
RECOMMENDS = ["pulseaudio-utils | pipewire-pulse", "libasound2-plugins"]


def control(package: str, version: str, installed_kb: int) -> str:
    return (
        f"Package: {package}\n"
        f"Version: {version}\n"
        "Section: sound\n"
        "Priority: optional\n"
        "Architecture: amd64\n"
        "Maintainer: Minutes <minutes@localhost>\n"
        f"Installed-Size: {installed_kb}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Conflicts: minutes, minutes-full, minutes-cuda\n"
        "Replaces: minutes, minutes-full, minutes-cuda\n"
        "Provides: minutes\n"
        "Description: meeting transcription on your own machine\n"
        " Whisper on ONNX Runtime with speakers, chapters and Word/SRT/VTT/TXT/JSON export.\n"
        " Models are included; nothing is downloaded.\n"
    )


def package_name(variant: str) -> str:
    return {"runtime": "minutes", "full": "minutes-full", "runtime-cuda": "minutes-cuda"}[variant]


def make_deb(bundle: Path, out_dir: Path, variant: str, version: str) -> Path:
    """Write ``<package>_<version>_amd64.deb`` into ``out_dir`` from the bundle folder."""
    package = package_name(variant)
    out = out_dir / f"{package}_{version}_amd64.deb"
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / "opt" / "minutes", symlinks=True)
        bin_dir = root / "usr" / "bin"
        bin_dir.mkdir(parents=True)
        for cmd in ("minutes", "minutes-gui"):
            (bin_dir / cmd).symlink_to(f"/opt/minutes/{cmd}")
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        shutil.copy2(HERE / "minutes.desktop", apps / "minutes.desktop")
        icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        icons.mkdir(parents=True)
        shutil.copy2(ICON, icons / "minutes.png")
        size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        debian = root / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(control(package, version, size_kb), encoding="utf-8")
        for d in [root, *root.rglob("*")]:
            if d.is_dir() and not d.is_symlink():
                d.chmod(0o755)
        # gzip: seconds rather than xz's minutes on 2 cores (CI builds it); files owned by root
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(root), str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out
