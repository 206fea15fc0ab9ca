"""Where Minutes keeps its files: the bottom of the house (imports nothing of the engine).

Every package that needs the user data folder (models, sessions, voice profiles, the Library,
the record of written files) asks here, so none of them imports another only for a path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """User data directory (models, caches). MINUTES_DATA_DIR overrides it (tests, portable installs)."""
    override = os.environ.get("MINUTES_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("Minutes", appauthor=False))


def bundled_models_dir() -> Path | None:
    """The read-only models an installer ships (exported at build time), or None outside one.

    A frozen bundle keeps them in ``models/`` beside its code (``sys._MEIPASS``), laid out as the
    user cache is (``data_dir()/models``): the runtime finds them without torch and without a
    conversion, and nothing is copied into the user's folder. MINUTES_BUNDLED_MODELS points at
    such a folder elsewhere (tests, and the build checking its own output)."""
    override = os.environ.get("MINUTES_BUNDLED_MODELS")
    if override:
        return Path(override)
    base = getattr(sys, "_MEIPASS", None)
    if base and (Path(base) / "models").is_dir():
        return Path(base) / "models"
    return None


def bundled_model(relpath: str) -> Path | None:
    """``relpath`` inside the bundled models when it is there (searched before the user cache)."""
    root = bundled_models_dir()
    if root is None:
        return None
    path = root / relpath
    return path if path.exists() else None
