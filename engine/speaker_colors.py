"""Speaker colours: one palette for the window (light and dark themes) and the Word export.

A speaker keeps their colour wherever they appear: it comes from the speaker's number ("S3" is
the third colour), not from ``hash()`` (which changes between runs) or from list order (which
changes when speakers are merged). Eight colours, told apart by people with the common colour
vision deficiencies (Okabe-Ito based), dark enough for white paper and light enough for a dark
window; the ninth speaker starts the cycle again.
"""

from __future__ import annotations

import re

# On white (documents, light theme): contrast ratio 4.5:1 or more against #FFFFFF.
LIGHT = ("0B5FA5", "C0392B", "1E8449", "7D3C98", "A0600A", "117A65", "AD1457", "4E5D6C")
# On a dark window (#1E1E1E-ish): the same hues, lighter.
DARK = ("6CB4F0", "F1948A", "7DCE82", "C39BD3", "F5B041", "48C9B0", "F48FB1", "AEB6BF")

_NUMBER = re.compile(r"^[A-Za-z]*(\d+)$")


def speaker_index(speaker_id: str, fallback: int = 0) -> int:
    """0-based colour slot of a speaker id: its number ("S1" -> 0), else ``fallback``."""
    m = _NUMBER.match(speaker_id or "")
    return int(m.group(1)) - 1 if m and int(m.group(1)) > 0 else fallback


def speaker_color(speaker_id: str, dark: bool = False, fallback: int = 0) -> str:
    """Hex colour (no '#') of a speaker in the light or dark palette."""
    palette = DARK if dark else LIGHT
    return palette[speaker_index(speaker_id, fallback) % len(palette)]
