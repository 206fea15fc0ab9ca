"""Local speaker segmentation (pyannote segmentation-3.0 in ONNX Runtime) on real recordings.

Numbers are printed (``pytest -s``); bench/segmentation.py reports them for every set.
"""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from engine.audio import SAMPLE_RATE
from engine.errors import Cancelled, ModelError
from engine.speakers import segmentation as seg_mod
from engine.speakers.segmentation import (
    FRAME_DURATION,
    FRAME_HOP,
    FRAME_STEP,
    FRAMES_PER_WINDOW,
    WINDOW_SAMPLES,
    LocalSegmentation,
    Segmenter,
    frame_count,
    window_starts,
)


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter(threads=1)


def _load(path: Path) -> np.ndarray:
    from engine.audio.decode import load_audio

    return load_audio(path)


def _detection(rttm: Path, out: LocalSegmentation, uem_path: Path | None = None) -> dict:
    """Missed and false-alarm speech of ``out.speech()`` against the RTTM (pyannote.metrics, collar 0)."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.detection import DetectionErrorRate

    from bench.diarization import load_reference, load_uem

    hyp = Annotation()
    for a, b in out.speech():
        hyp[Segment(a, b)] = "speech"
    uem = load_uem(uem_path, out.duration) if uem_path else load_uem(Path("/nonexistent"), out.duration)
    return DetectionErrorRate(collar=0.0, skip_overlap=False)(load_reference(rttm), hyp, uem=uem, detailed=True)


def _overlap_scores(rttm: Path, out: LocalSegmentation) -> tuple[float, float, float]:
    """Precision, recall and reference seconds of overlap frames (count >= 2) on the global frame grid."""
    from bench.diarization import load_reference
    from bench.segmentation import reference_count

    sc = out.speaker_count()
    ref2 = reference_count(load_reference(rttm), sc.frame_times()) >= 2
    hyp2 = sc.count >= 2
    tp = float((ref2 & hyp2).sum())
    return tp / max(hyp2.sum(), 1), tp / max(ref2.sum(), 1), float(ref2.sum() * sc.frame_step)


def test_frame_timing_is_the_models(segmenter: Segmenter) -> None:
    # SincNet: 991 samples a frame, 270 between frames; the ONNX output lengths agree
    assert FRAMES_PER_WINDOW == 589 and FRAME_HOP == 270
    assert FRAME_STEP == 270 / 16000 and FRAME_DURATION == 991 / 16000
    for n in (991, 1260, 1261, 16000, WINDOW_SAMPLES - 1, WINDOW_SAMPLES):
        got = segmenter.infer(np.zeros((1, n), np.float32)).shape[1]
        assert got == frame_count(n), n
    assert frame_count(990) == 0


def test_windows_sit_on_the_frame_grid_and_reach_the_end() -> None:
    step = seg_mod.step_samples(2.5)
    assert step % FRAME_HOP == 0 and abs(step - 40000) <= FRAME_HOP / 2
    assert window_starts(0, step) == [] and window_starts(5 * 16000, step) == [0]
    assert window_starts(WINDOW_SAMPLES, step) == [0]
    for n in (WINDOW_SAMPLES + 1, 25 * 16000, 30 * 16000 + 123, 3600 * 16000 + 7):
        starts = window_starts(n, step)
        assert all(s % FRAME_HOP == 0 for s in starts) and starts == sorted(set(starts))
        assert n - FRAME_HOP < starts[-1] + WINDOW_SAMPLES <= n  # end-aligned, within a frame
        assert np.diff(starts, prepend=0).max() <= step
        padded = window_starts(n, step, last="pad")
        assert padded[-1] + WINDOW_SAMPLES >= n and np.all(np.diff(padded) == step)
    with pytest.raises(ValueError):
        seg_mod.step_samples(0)
    with pytest.raises(ValueError):
        seg_mod.step_samples(11)


def test_two_speaker_sample_speech_and_overlap(segmenter: Segmenter, data_dir: Path) -> None:
    folder = data_dir / "diarization" / "pyannote_sample"
    out = segmenter(_load(folder / "sample.wav"))
    assert out.activity.shape == (len(out.starts), FRAMES_PER_WINDOW, 3) and out.activity.dtype == np.uint8
    assert out.probs is not None and out.probs.shape == out.activity.shape
    assert set(np.unique(out.activity)) <= {0, 1}
    d = _detection(folder / "sample.rttm", out)
    p, r, ref_s = _overlap_scores(folder / "sample.rttm", out)
    print(
        f"sample: detection error {d['detection error rate']:.2%} (miss {d['miss']:.2f} s, false alarm "
        f"{d['false alarm']:.2f} s of {d['total']:.1f} s); overlap precision {p:.2f} recall {r:.2f} of {ref_s:.1f} s"
    )
    assert d["detection error rate"] < 0.03  # measured 0.95%
    assert p > 0.6 and r > 0.6  # measured 0.78, 0.86
    # both voices are found, as local speakers of the windows
    assert (out.activity.any(axis=1).sum(axis=1) >= 2).any()


def test_ami_far_field_speech_and_overlap(segmenter: Segmenter, data_dir: Path) -> None:
    folder = data_dir / "diarization" / "ami_pyannote_debug"
    miss = fa = total = 0.0
    for wav in sorted(folder.glob("*.wav")):
        rttm = wav.with_suffix(".rttm")
        out = segmenter(_load(wav))
        d = _detection(rttm, out, wav.with_suffix(".uem"))
        miss, fa, total = miss + d["miss"], fa + d["false alarm"], total + d["total"]
        print(
            f"{wav.stem}: detection error {d['detection error rate']:.1%} (miss {d['miss']:.2f} s, "
            f"false alarm {d['false alarm']:.2f} s of {d['total']:.1f} s)"
        )
        if wav.stem == "tst00":  # the most overlap: 17.8 s of 30
            p, r, ref_s = _overlap_scores(rttm, out)
            print(f"tst00 overlap: precision {p:.2f} recall {r:.2f} of {ref_s:.1f} s")
            assert p > 0.85 and r > 0.45  # measured 0.96, 0.57
    print(f"AMI: detection error {(miss + fa) / total:.2%} (miss {miss / total:.2%}, false alarm {fa / total:.2%})")
    assert (miss + fa) / total < 0.15  # measured 11.5%: far-field quiet speakers are missed, little is invented
    assert fa / total < 0.04  # measured 1.65%


def test_one_voice_is_never_two_for_long(segmenter: Segmenter, data_dir: Path) -> None:
    clips = sorted((data_dir / "speaker_pool").glob("*.flac"))[:6]
    audios = [_load(p) for p in clips]
    for name, audio in [*zip((p.name for p in clips), audios, strict=True), ("6 clips", np.concatenate(audios))]:
        out = segmenter(audio)
        sc = out.speaker_count()
        two = np.concatenate([[0], (sc.count >= 2).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(two))
        longest = float((edges[1::2] - edges[::2]).max() * FRAME_STEP) if len(edges) else 0.0
        speech = sum(b - a for a, b in out.speech())
        both = two.sum() * FRAME_STEP
        print(f"{name}: {len(audio) / SAMPLE_RATE:.1f} s, speech {speech:.1f} s, two speakers {both:.2f} s")
        assert speech > 0.5 * len(audio) / SAMPLE_RATE
        assert longest < 0.5 and both < 0.02 * speech


def test_short_silent_and_empty_input(segmenter: Segmenter, data_dir: Path) -> None:
    clip = _load(sorted((data_dir / "speaker_pool").glob("*.flac"))[0])[: 3 * SAMPLE_RATE]
    out = segmenter(clip)
    assert len(out.starts) == 1 and out.starts[0] == 0.0 and out.duration == 3.0
    sc = out.speaker_count()
    assert len(sc.count) == out.global_frames() and sc.frame_times()[-1] <= 3.0
    speech = out.speech()
    assert speech and sum(b - a for a, b in speech) > 1.5 and speech[-1][1] <= 3.0

    silent = segmenter(np.zeros(12 * SAMPLE_RATE, np.float32))
    assert len(silent.starts) == 2 and silent.speech() == [] and silent.speaker_count().count.max() == 0
    for n in (0, 500):  # nothing, and less than one frame's receptive field
        tiny = segmenter(np.zeros(n, np.float32))
        assert tiny.speech() == [] and not tiny.speaker_count().count.any()
        assert len(tiny.starts) == (n > 0) and tiny.duration == n / SAMPLE_RATE


def test_stream_and_memmap_give_the_array_result(segmenter: Segmenter, data_dir: Path, tmp_path: Path) -> None:
    from engine.audio.decode import stream_audio

    wav = data_dir / "diarization" / "pyannote_sample" / "sample.wav"
    audio = _load(wav)
    ref = segmenter(audio, step=2.5, batch=3)
    streamed = segmenter(stream_audio(wav, block_seconds=3.7), step=2.5)
    assert np.array_equal(streamed.starts, ref.starts) and streamed.duration == ref.duration
    assert np.array_equal(streamed.activity, ref.activity)

    f32 = np.memmap(tmp_path / "a.f32", dtype=np.float32, mode="w+", shape=audio.shape)
    f32[:] = audio
    assert np.array_equal(segmenter(f32).activity, ref.activity)
    i16 = np.memmap(tmp_path / "a.s16", dtype=np.int16, mode="w+", shape=audio.shape)
    i16[:] = np.clip(np.round(audio * 32768), -32768, 32767)
    assert (segmenter(i16).activity == ref.activity).mean() > 0.99  # 16-bit rounding moves a few frames


class _Quiet:
    """Stands in for the ONNX session: every frame 'nobody', so only the windowing is exercised."""

    def __init__(self, on_batch=None) -> None:
        self.on_batch = on_batch
        self.batches = 0

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        self.batches += 1
        if self.on_batch:
            self.on_batch(self.batches)
        out = np.full((len(windows), frame_count(windows.shape[1]), 7), -20.0, np.float32)
        out[..., 0] = 0.0
        return out


def _rss_file() -> float | None:
    """Bytes of file pages resident in this process (Linux), else None."""
    try:
        with open("/proc/self/status") as f:
            return next(float(line.split()[1]) * 1024 for line in f if line.startswith("RssFile:"))
    except (OSError, StopIteration):
        return None


def test_two_hours_need_no_more_than_the_outputs(segmenter: Segmenter, tmp_path: Path, monkeypatch) -> None:
    samples = 2 * 3600 * SAMPLE_RATE
    path = tmp_path / "two_hours.f32"
    with open(path, "wb") as f:  # sparse: 460 MB of zeros that take no disk
        f.truncate(samples * 4)
    audio = np.memmap(path, dtype=np.float32, mode="r", shape=(samples,))
    monkeypatch.setattr(segmenter, "infer", _Quiet())
    mapped = _rss_file()
    tracemalloc.start()
    try:
        out = segmenter(audio, step=2.5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if mapped is not None:  # the pages read from the mapping are let go: resident file memory stays flat
        assert _rss_file() - mapped < 50e6
    outputs = out.activity.nbytes + out.probs.nbytes
    print(f"2 h: {len(out.starts)} windows, outputs {outputs / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB")
    assert len(out.starts) == len(window_starts(samples, seg_mod.step_samples(2.5))) == 2880
    assert out.duration == 7200.0 and out.starts[-1] + 10.0 <= 7200.0
    assert peak < 2 * outputs + 30e6  # the audio would be 460 MB

    def blocks():
        for _ in range(2 * 120):
            yield np.zeros(30 * SAMPLE_RATE, np.float32)

    tracemalloc.start()
    try:
        streamed = segmenter(blocks(), step=2.5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(streamed.starts, out.starts) and peak < 2 * outputs + 30e6


def test_cancel_stops_between_batches(segmenter: Segmenter, monkeypatch) -> None:
    audio = np.zeros(60 * SAMPLE_RATE, np.float32)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        segmenter(audio, cancel=cancel)
    cancel = threading.Event()
    fake = _Quiet(on_batch=lambda n: cancel.set())
    monkeypatch.setattr(segmenter, "infer", fake)
    with pytest.raises(Cancelled):
        segmenter(audio, cancel=cancel, batch=4)
    assert fake.batches == 1


def test_a_damaged_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.speakers import model_files

    good = model_files.locate(model_files.SEGMENTATION)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "segmentation-3.0.onnx"
    bad.write_bytes(bytes(data))
    monkeypatch.setenv("MINUTES_SEGMENTATION_MODEL", str(bad))
    with pytest.raises(ModelError, match="sha256"):
        Segmenter(threads=1)
    monkeypatch.setenv("MINUTES_SEGMENTATION_MODEL", str(tmp_path / "missing.onnx"))
    with pytest.raises(ModelError, match="does not exist"):
        Segmenter(threads=1)
    not_onnx = tmp_path / "not.onnx"
    not_onnx.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="Cannot load"):
        Segmenter(threads=1, model_path=not_onnx)
