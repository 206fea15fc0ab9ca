"""Three people whose voices are closer than the clustering threshold are still three people.

One speech synthesizer (espeak-ng) with three close variants of one voice takes long turns, as
bench/diarization_meetings.py's close_voices set does, but with other variants (en-us+m1, +m3,
+m4: that set is held out) and half the text. At the threshold that suits real meetings the
three merge into one person; the spectral split test must find them again, and must not cut
one natural voice or one voice that drifts.
"""

from __future__ import annotations

import ctypes.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.speakers.local_clustering import LocalClusteringOptions

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None, reason="needs libespeak-ng (apt-get install espeak-ng)"
)


@pytest.fixture(scope="module")
def meeting(tmp_path_factory) -> Path:
    from bench.diarization_meetings import MEETING_FEMALE, build_close

    folder = tmp_path_factory.mktemp("close")
    build_close(("en-us+m1", "en-us+m3", "en-us+m4"), MEETING_FEMALE[:8], seed=5)(folder, "close")
    return folder


@needs_espeak
def test_three_close_synthetic_voices_are_three_people(meeting: Path) -> None:
    from bench.diarization_meetings import misattribution, read_rttm
    from engine.audio.decode import load_audio
    from engine.speakers.diarize import DiarizationOptions
    from engine.speakers.overlap_diarize import OverlapDiarizer

    diarizer = OverlapDiarizer(threads=2)
    audio = load_audio(meeting / "close.wav")
    ref = read_rttm(meeting / "close.rttm")
    duration = len(audio) / 16000
    win, speech, seen = diarizer._windows([audio], diarizer.options, None, None, None)

    def diarize(options):
        result = diarizer.diarize_windows(win, speech, seen, DiarizationOptions(), options)
        wrong, _, _ = misattribution(ref, [(t.start, t.end, t.speaker) for t in result.turns], duration)
        return result.num_speakers, wrong

    found, wrong = diarize(diarizer.options)
    assert found == 3
    assert wrong < 0.05, f"{100 * wrong:.1f}% of the speech given to the wrong person"
    no_split = replace(diarizer.options, clustering=replace(diarizer.options.clustering, split_min=0))
    found, wrong = diarize(no_split)
    assert found < 3 and wrong > 0.25  # what the threshold alone does


def test_one_drifting_voice_is_not_split_but_three_tight_voices_taking_turns_are() -> None:
    """Made-up embeddings. One voice drifting over a meeting (a microphone moved) stretches into
    a chain, whose graph spectrum also jumps: it changes once, so it stays one person. Three
    tight voices as close as the synthesizer's, taking turns of ten windows, are split apart;
    the same voices recurring as copies of one passage (no window more alike its overlapping
    neighbours than distant ones) are not."""
    from engine.speakers.local_clustering import LocalClusteringOptions, _voices_in, cluster_embeddings

    rng = np.random.default_rng(0)
    d, opts = 64, LocalClusteringOptions()
    base, drift = rng.normal(size=d), rng.normal(size=d)
    along = np.linspace(0, 1, 150)[:, None]
    one = base + 0.6 * along * drift + 0.2 * rng.normal(size=(150, d))
    one /= np.linalg.norm(one, axis=1, keepdims=True)
    assert _voices_in(one, None, opts) is not None  # the spectrum alone would make two people
    assert _voices_in(one, np.arange(150), opts) is None  # in window order it changes once
    assert cluster_embeddings(one, windows=np.arange(150)).max() == 0
    tight = [base + 0.35 * rng.normal(size=d) for _ in range(3)]
    truth = np.repeat(np.arange(15) % 3, 10)  # 15 turns of 10 windows: 0 1 2 0 1 2 ...
    z = rng.normal(size=(153, d))  # overlapping windows share audio: noise shared over 4 windows
    three = np.stack([tight[k] for k in truth]) + 0.06 * (z[3:] + z[2:-1] + z[1:-2] + z[:-3])
    three /= np.linalg.norm(three, axis=1, keepdims=True)
    sims = np.array([[a @ b / np.linalg.norm(a) / np.linalg.norm(b) for b in tight] for a in tight])
    assert sims[np.triu_indices(3, 1)].min() > 0.8  # closer than the clustering threshold lets apart
    parts = cluster_embeddings(three, windows=np.arange(150))
    assert parts.max() + 1 == 3
    assert all(len(set(truth[parts == k])) == 1 for k in range(3))
    no_split = LocalClusteringOptions(split_min=0)
    assert cluster_embeddings(three, windows=np.arange(150), options=no_split).max() == 0
    copies = np.stack([tight[k] for k in truth]) + 0.12 * rng.normal(size=(150, d))
    copies /= np.linalg.norm(copies, axis=1, keepdims=True)
    assert _voices_in(copies, None, opts) is not None
    assert cluster_embeddings(copies, windows=np.arange(150)).max() == 0


def test_one_reader_for_four_minutes_stays_one_person(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The split test must not cut one natural voice: 35 LJ Speech utterances of one reader
    (250 s, enough windows for the test to run) are one person."""
    import engine.speakers.local_clustering as lc
    from engine.audio.decode import load_audio
    from engine.speakers.overlap_diarize import OverlapDiarizer

    clips = sorted((data_dir / "asr_en").glob("ljspeech_*.wav"))
    assert len(clips) >= 30
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([np.concatenate([load_audio(p), gap]) for p in clips])
    tested = []
    original = lc._voices_in

    def spy(unit, windows, options):
        tested.append(len(unit))
        return original(unit, windows, options)

    monkeypatch.setattr(lc, "_voices_in", spy)
    result = OverlapDiarizer(threads=2)(audio)
    assert tested and max(tested) >= LocalClusteringOptions().split_min  # the test did run
    assert result.num_speakers == 1
