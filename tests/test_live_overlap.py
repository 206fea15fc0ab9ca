"""Live speakers on the overlap-aware pipeline: labels at once, never swapped, and at the end
the same diarization the recording gets as a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def overlap_diarizer():
    from engine.speakers.overlap_diarize import OverlapDiarizer

    return OverlapDiarizer(threads=1)


def _feed(diarizer, audio: np.ndarray, segments, every: int = 4):
    """Utterances in order, as a live session gives them (relabel every ``every``); returns the
    tracker, the label shown at once for each utterance and every relabel's output."""
    from engine.audio.recorder import Recorder
    from engine.speakers.live_overlap import OverlapSpeakerTracker

    with tempfile.TemporaryDirectory() as folder:  # read back as a live session does: from its recording
        recorder = Recorder(Path(folder), {"input": "test"})
        recorder.write(audio)
        tracker = OverlapSpeakerTracker(diarizer, recorder.read)
        shown, relabels = [], []
        for i, (a, b) in enumerate(segments):
            shown.append((a, b, tracker.add(None, a, b)))
            if i % every == every - 1:
                relabels.append(tracker.relabel())
        relabels.append(tracker.relabel(final=True))
        heard = recorder.read(0, float("inf"))  # 16-bit, as the file job would read the saved WAV
        recorder.close()
    return tracker, shown, relabels, heard


def _never_swap(ref, outputs) -> None:
    """Across every output, each label keeps standing for the reference speaker it stood for first."""
    from pyannote.core import Segment

    person_of: dict[str, str] = {}
    for labelled in outputs:
        by_label: dict[str, dict[str, float]] = {}
        for a, b, lab in labelled:
            crop = ref.crop(Segment(a, b))
            if crop.labels():
                who = max(crop.labels(), key=crop.label_duration)
                by_label.setdefault(lab, {}).setdefault(who, 0.0)
                by_label[lab][who] += b - a
        for lab, votes in by_label.items():
            who = max(votes, key=votes.get)
            assert person_of.setdefault(lab, who) == who, f"label {lab} swapped people"


@pytest.mark.parametrize(
    ("name", "wav", "people"), [("pyannote_sample", "sample", 2), ("picovoice_falcon_3spk", None, 3)]
)
def test_live_labels_never_swap_and_end_as_the_file_job(overlap_diarizer, data_dir: Path, name, wav, people) -> None:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from bench.diarization import load_reference
    from engine.audio.decode import load_audio
    from engine.speakers.diarize import Diarizer

    folder = data_dir / "diarization" / name
    path = folder / f"{wav}.wav" if wav else sorted(folder.glob("*.wav"))[0]
    audio = load_audio(path)
    ref = load_reference(path.with_suffix(".rttm"))
    _, _, segments = Diarizer(threads=2).features([audio])  # utterances as the live voice detector cuts them
    tracker, shown, relabels, heard = _feed(overlap_diarizer, audio, segments)
    assert all(label is not None for _, _, label in shown)  # every line gets a label at once
    _never_swap(ref, [shown, *relabels])
    final = relabels[-1]
    assert len({lab for _, _, lab in final}) == people
    # the last relabel is the file job's diarization of the recording, labels renamed one-to-one
    offline = overlap_diarizer(heard)
    rename = {}
    for (a, b, lab), t in zip(final, offline.turns):
        assert (a, b) == pytest.approx((t.start, t.end), abs=1e-6)
        assert rename.setdefault(t.speaker, lab) == lab
    assert len(final) == len(offline.turns)
    # and the second voices where two talk (the saved transcript's turns, its RTTM) as well
    assert len(tracker.overlaps) == len(offline.overlaps)
    for (a, b, lab), t in zip(tracker.overlaps, offline.overlaps):
        assert (a, b, lab) == (pytest.approx(t.start, abs=1e-6), pytest.approx(t.end, abs=1e-6), rename[t.speaker])
    live, off = Annotation(), Annotation()
    for a, b, lab in final + tracker.overlaps:
        live[Segment(a, b), len(live)] = lab
    for t in offline.turns + offline.overlaps:
        off[Segment(t.start, t.end), len(off)] = t.speaker
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    assert abs(metric(ref, live) - metric(ref, off)) < 1e-6


def test_a_new_voice_opens_a_new_label_at_once(overlap_diarizer, data_dir: Path) -> None:
    """Two different recordings back to back: the second person gets a new label on their first
    line, before any relabel."""
    from engine.audio.decode import load_audio

    jfk = load_audio(Path(__file__).resolve().parents[1] / "resources" / "demo" / "jfk.wav")
    other = load_audio(sorted((data_dir / "diarization" / "picovoice_falcon_3spk").glob("*.wav"))[0])[: 16000 * 6]
    audio = np.concatenate([jfk, other]).astype(np.float32)
    cut = len(jfk) / 16000
    segments = [(0.3, 4.0), (4.2, cut - 0.2), (cut + 0.2, cut + 5.8)]
    from engine.speakers.live_overlap import OverlapSpeakerTracker

    tracker = OverlapSpeakerTracker(overlap_diarizer, lambda a, b: audio[int(a * 16000) : int(min(b, cut + 6) * 16000)])
    labels = [tracker.add(None, a, b) for a, b in segments]
    assert labels[0] == labels[1] == "S1"
    assert labels[2] == "S2"
