"""Session audio time back to wall time.

A recording has no paused time, so a transcript's times are not the clock's; what happened
when (an event, a line) is found through the pauses the recorder kept in ``session.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import MinutesError


def audio_to_wall(session_info: dict[str, Any] | str | Path | object, audio_seconds: float) -> float:
    """The Unix time at which ``audio_seconds`` of a session's recording were captured.

    The recording has no paused time: each pause in ``session.json`` (``pauses``: a list of
    ``{"audio": s, "wall_paused": t, "wall_resumed": t}``, see engine/audio/recorder.py)
    marks where wall time jumps. ``session_info`` is session.json's dict, an object with a
    ``meta`` dict (``engine.audio.recorder.SessionInfo``, ``Recorder``), or a session folder.
    Audio at a pause's mark maps to the moment of the pause; a pause never resumed (the session
    stopped or crashed while paused) has nothing after it.
    """
    if isinstance(session_info, (str, Path)):
        from engine.audio.recorder import META_NAME

        path = Path(session_info)
        path = path / META_NAME if path.is_dir() else path
        try:
            session_info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise MinutesError(f"Cannot read the session '{path}': {e}.") from e
    meta = getattr(session_info, "meta", session_info)
    anchor_audio, anchor_wall = 0.0, float(meta.get("started") or 0.0)
    for p in sorted(meta.get("pauses") or [], key=lambda p: p["audio"]):
        if p["audio"] >= audio_seconds or p.get("wall_resumed") is None:
            break
        anchor_audio, anchor_wall = float(p["audio"]), float(p["wall_resumed"])
    return anchor_wall + (audio_seconds - anchor_audio)
