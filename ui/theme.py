"""Light and dark palettes and the font size: the look follows the system unless asked.

Fusion with an explicit palette is used for "light" and "dark" so both look the same on every
platform; "system" leaves the platform's style and colour scheme alone. Views ask
:func:`is_dark` (never a setting) to pick the speaker palette that reads on their background.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


def is_dark(palette: QPalette | None = None) -> bool:
    """True when text is lighter than the window behind it."""
    p = palette or QGuiApplication.palette()
    return p.color(QPalette.ColorRole.WindowText).lightness() > p.color(QPalette.ColorRole.Window).lightness()


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(0x2B, 0x2B, 0x2B), QColor(0x1E, 0x1E, 0x1E), QColor(0xE6, 0xE6, 0xE6)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(0x26, 0x26, 0x26),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(0x35, 0x35, 0x35),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.ToolTipBase: QColor(0x35, 0x35, 0x35),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Highlight: QColor(0x2F, 0x6F, 0xB5),
        QPalette.ColorRole.HighlightedText: QColor(0xFF, 0xFF, 0xFF),
        QPalette.ColorRole.Link: QColor(0x6C, 0xB4, 0xF0),
        QPalette.ColorRole.PlaceholderText: QColor(0x9A, 0x9A, 0x9A),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(0x80, 0x80, 0x80))
    return p


_SYSTEM: dict = {}


def apply(app: QApplication, theme: str = "system", font_size: int = 0) -> None:
    """Set the colour scheme ("system", "light", "dark") and the font size in points (0: system's)."""
    if not _SYSTEM:
        _SYSTEM.update(style=app.style().name(), palette=QPalette(app.palette()), font=QFont(app.font()))
    if theme in ("light", "dark"):
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(_dark_palette() if theme == "dark" else app.style().standardPalette())
    else:
        app.setStyle(QStyleFactory.create(_SYSTEM["style"]) or app.style())
        app.setPalette(_SYSTEM["palette"])
    font = QFont(_SYSTEM["font"])
    if font_size > 0:
        font.setPointSize(font_size)
    app.setFont(font)
