"""Where Minutes keeps its files: the bottom of the house (imports nothing of the engine).

Every package that needs the user data folder (models, sessions, voice profiles, the Library,
the record of written files) asks here, so none of them imports another only for a path.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """User data directory (models, caches). MINUTES_DATA_DIR overrides it (tests, portable installs)."""
    override = os.environ.get("MINUTES_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("Minutes", appauthor=False))
