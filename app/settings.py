"""The window's settings (QSettings): what a user chose, typed, with sane defaults.

One small class so every view reads the same keys and a missing or odd value (a settings file
from an older version, edited by hand) falls back to the default instead of breaking a view.
Input devices are remembered by name, never by index: indices change when a device is plugged in.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import QSettings

from ui.settings.preferences import FORMATS, Preferences

__all__ = ["FORMATS", "Preferences", "Settings"]

ORGANIZATION = "Minutes"
APPLICATION = "Minutes"


class Settings:
    """Load and store :class:`Preferences` in QSettings (``path``: an INI file, for tests)."""

    def __init__(self, path: str | None = None) -> None:
        if path:
            self._q = QSettings(path, QSettings.Format.IniFormat)
        else:
            self._q = QSettings(ORGANIZATION, APPLICATION)

    def load(self) -> Preferences:
        prefs = Preferences()
        for f in fields(Preferences):
            raw = self._q.value(f.name, None)
            if raw is None:
                continue
            default = getattr(prefs, f.name)
            try:
                if isinstance(default, bool):
                    value = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
                elif isinstance(default, int):
                    value = int(raw)
                else:
                    value = str(raw)
            except (TypeError, ValueError):
                continue  # a damaged value: keep the default
            setattr(prefs, f.name, value)
        prefs.speakers = min(max(prefs.speakers, 0), 8)
        prefs.font_size = min(max(prefs.font_size, 0), 32)
        return prefs

    def save(self, prefs: Preferences) -> None:
        for f in fields(Preferences):
            self._q.setValue(f.name, getattr(prefs, f.name))
        self._q.sync()

    def value(self, key: str, default=None):
        """Window state (geometry, splitter sizes): not preferences, but kept in the same file."""
        return self._q.value(key, default)

    def set_value(self, key: str, value) -> None:
        self._q.setValue(key, value)
