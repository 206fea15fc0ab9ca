"""Bundled, read-only assets: demo audio, icons, keyword lists."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
DEMO_AUDIO = RESOURCES_DIR / "demo" / "jfk.wav"
