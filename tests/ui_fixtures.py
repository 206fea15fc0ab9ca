"""Helpers for the transcript editor's tests (tests/test_ui_transcript.py).

Also a script: ``python tests/ui_fixtures.py shot TRANSCRIPT.json AUDIO OUT.png`` renders the
editor offscreen at the QT_SCALE_FACTOR of its environment (a scale factor must be set before
the QApplication exists, so each scale is its own process).
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MINUTES_AUDIO_OUTPUT", "none")  # tests never make a sound

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.transcript import AudioInfo, Chapter, ModelInfo, Segment, Speaker, SpeakerTurn, Transcript, Word  # noqa: E402


def with_chapters(t: Transcript) -> Transcript:
    """The transcript with two chapters cut at its middle segment (a 30 s sample has one topic;
    the chapter finder keeps one chapter for it), titled from its text."""
    segs = t.segments
    mid = segs[len(segs) // 2].start
    end = max(t.audio.duration, segs[-1].end)
    return replace(
        t,
        chapters=[
            Chapter(0.0, mid, "Greetings", ["hello"]),
            Chapter(mid, end, "Where we live", ["new jersey", "chicago"]),
        ],
    )


_VOCAB = (
    "budget hiring roadmap we should look at the numbers again before Friday and then decide who "
    "takes the customer call about the new release it is late because testing found two bugs"
).split()


def synthetic(n: int = 5000, speakers: int = 4, seed: int = 1) -> Transcript:
    """A long meeting: ``n`` segments of 5–40 words with word times, turns and chapters."""
    rng = random.Random(seed)
    segs: list[Segment] = []
    turns: list[SpeakerTurn] = []
    t = 0.5
    for i in range(n):
        sid = f"S{rng.randrange(speakers) + 1}"
        words = []
        for _ in range(rng.randint(5, 40)):
            d = rng.uniform(0.15, 0.5)
            words.append(Word(round(t, 3), round(t + d, 3), " " + rng.choice(_VOCAB), 0.9))
            t += d
        text = "".join(w.word for w in words).strip()
        segs.append(Segment(words[0].start, words[-1].end, text, sid, words))
        turns.append(SpeakerTurn(words[0].start, words[-1].end, sid))
        t += rng.uniform(0.1, 1.5)
        if i == 0:
            segs[0].text = segs[0].text.capitalize()
    chapters = []
    step = max(1, n // 20)
    for k in range(0, n, step):
        end = segs[min(n, k + step) - 1].end
        chapters.append(Chapter(segs[k].start, end, f"Topic {len(chapters) + 1}", ["budget"]))
    return Transcript(
        audio=AudioInfo("long-meeting.wav", round(t, 3)),
        language="en",
        model=ModelInfo("whisper-base", "int8", "cpu"),
        segments=segs,
        speakers=[Speaker(f"S{k + 1}", f"Speaker {k + 1}") for k in range(speakers)],
        chapters=chapters,
        turns=turns,
    )


def shot(transcript_json: str, audio: str, out_png: str) -> int:
    """Render the editor as a user would see it mid-playback and save a PNG."""
    import time

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from engine.audio.playback import Player
    from ui.transcript import TranscriptEditor

    app = QApplication.instance() or QApplication([])
    if os.environ.get("MINUTES_SHOT_THEME") == "dark":
        from PySide6.QtGui import QColor, QPalette

        app.setStyle("Fusion")
        pal = QPalette()
        for role, color in (
            ("Window", "#202124"),
            ("WindowText", "#E8EAED"),
            ("Base", "#1B1B1D"),
            ("AlternateBase", "#26272A"),
            ("Text", "#E8EAED"),
            ("Button", "#2D2E31"),
            ("ButtonText", "#E8EAED"),
            ("Highlight", "#3D6FB4"),
            ("HighlightedText", "#FFFFFF"),
            ("PlaceholderText", "#9AA0A6"),
            ("ToolTipBase", "#3C3F44"),
            ("ToolTipText", "#E8EAED"),
            ("Mid", "#5F6368"),
        ):
            pal.setColor(getattr(QPalette.ColorRole, role), QColor(color))
        app.setPalette(pal)
    editor = TranscriptEditor(player=Player(output=False))
    fm = editor.fontMetrics()
    editor.resize(fm.averageCharWidth() * 170, fm.height() * 46)
    t = Transcript.load(transcript_json)
    editor.set_transcript(t, audio, None)
    editor.rename_speaker("S1", "Sheila")
    editor.rename_speaker("S2", "Diane")
    editor.show()
    deadline = time.monotonic() + 20
    while not editor.audio_ready() and time.monotonic() < deadline:
        QCoreApplication.processEvents()
    editor.find("jersey")
    editor.find_next()
    editor.play_from(12.8)
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        QCoreApplication.processEvents()
    editor.player().pause()
    editor._on_tick()
    QCoreApplication.processEvents()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    ok = editor.grab().save(out_png)
    editor.close_player()
    print(f"{out_png}: {editor.grab().size().width()}x{editor.grab().size().height()} logical")
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "shot":
        sys.exit(shot(*sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
