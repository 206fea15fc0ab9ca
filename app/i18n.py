"""The interface language: English in the sources, Simplified Chinese from a Qt .qm file.

Translations live in ``resources/translations/minutes_<lang>.ts`` (Qt Linguist's format,
made by ``make translations`` with pyside6-lupdate from ui/ and app/) and are compiled to
``.qm`` next to it (pyside6-lrelease). "system" follows the desktop's locale.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

FOLDER = Path(__file__).resolve().parents[1] / "resources" / "translations"
LANGUAGES = ("en", "zh_CN")

_installed: list[QTranslator] = []


def resolve(choice: str) -> str:
    """ "system" -> the locale's language if we ship it, else English."""
    if choice in LANGUAGES:
        return choice
    name = QLocale.system().name()  # e.g. "zh_CN", "en_US"
    if name.startswith("zh"):
        return "zh_CN"
    return "en"


def install(app: QCoreApplication, choice: str = "system") -> str:
    """Load the translation for ``choice`` (replacing the previous one); returns the language used."""
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    language = resolve(choice)
    if language == "en":
        return language
    ours = QTranslator(app)
    if ours.load(str(FOLDER / f"minutes_{language}.qm")):
        app.installTranslator(ours)
        _installed.append(ours)
    qt = QTranslator(app)  # Qt's own strings: standard buttons, file dialogs
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    return language
