"""Audio front end: decoding, voice activity detection and window planning.

These test what a user sees: any common file gives 16 kHz mono of the right length,
bad files give a one-line AudioError that says what to do, speech is found where it is
and not in silence, and the recogniser windows cover all speech without overlapping.
"""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import soxr

from engine.audio import vad as vad_module
from engine.audio.decode import SAMPLE_RATE, AudioMeta, load_audio, probe, stream_audio
from engine.audio.vad import SileroVAD
from engine.audio.windows import Window, WindowSource, plan_windows
from engine.errors import AudioError, ModelError

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MINUTES_DATA", REPO.parent / "shared" / "data"))
DEMO_JFK = REPO / "resources" / "demo" / "jfk.wav"
LONGFORM = DATA / "longform" / "en_asr_concat.wav"
JFK_SPEECH_ONSET = 0.33  # seconds; where "And so..." starts (energy envelope)


def _jfk_path() -> Path:
    for p in (DATA / "asr_en" / "jfk.wav", DEMO_JFK):
        if p.is_file():
            return p
    pytest.skip(f"jfk.wav not found in {DATA / 'asr_en'} or {DEMO_JFK.parent}")


def _longform_path() -> Path:
    if not LONGFORM.is_file():
        pytest.skip(f"shared test data missing: {LONGFORM} (needs /work/shared/data next to the repo)")
    return LONGFORM


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    a, sr = sf.read(str(_jfk_path()), dtype="float32")
    assert sr == SAMPLE_RATE
    return a


@pytest.fixture(scope="module")
def vad() -> SileroVAD:
    return SileroVAD()


def _encode(path: Path, codec: str, audio: np.ndarray, rate: int, video: bool = False) -> None:
    """Write stereo ``audio`` (samples, 2) with PyAV's encoder, optionally next to a tiny video."""
    with av.open(str(path), "w") as out:
        if video:
            vs = out.add_stream("mpeg4", rate=10)
            vs.width, vs.height, vs.pix_fmt = 32, 32, "yuv420p"
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        size = stream.codec_context.frame_size or 1024
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        for i in range(0, len(pcm), size):
            chunk = np.ascontiguousarray(pcm[i : i + size]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate, frame.pts = rate, i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if video:
            for k in range(int(len(audio) / rate * 10)):
                img = np.full((32, 32, 3), k * 7 % 255, dtype=np.uint8)
                out.mux(vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            out.mux(vs.encode(None))


def _similar(decoded: np.ndarray, reference: np.ndarray) -> float:
    """Best normalised correlation allowing a small codec delay (up to 50 ms)."""
    best = 0.0
    n = min(len(decoded), len(reference)) - 800
    for lag in range(0, 800, 8):
        a, b = decoded[lag : lag + n], reference[:n]
        best = max(best, float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)))
    return best


# ----------------------------------------------------------------------------- decoding


def test_stereo_44k_wav_and_flac_become_16k_mono(tmp_path: Path, jfk: np.ndarray) -> None:
    hi = soxr.resample(jfk, SAMPLE_RATE, 44100)
    stereo = np.stack([hi, 0.5 * hi], axis=1)
    for name in ("st.wav", "st.flac", "st.ogg"):
        path = tmp_path / name
        sf.write(str(path), stereo, 44100)
        meta = probe(path)
        assert (meta.sample_rate, meta.channels) == (44100, 2)
        assert meta.duration == pytest.approx(11.0, abs=0.01)
        audio = load_audio(path)
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert len(audio) == pytest.approx(11.0 * SAMPLE_RATE, abs=16)
        # Downmix is the mean of the channels: 0.75 * the original.
        assert _similar(audio, jfk) > 0.99
        assert np.abs(audio).max() == pytest.approx(0.75 * np.abs(jfk).max(), rel=0.05)


def test_stream_audio_blocks_are_exact_and_seamless(tmp_path: Path, jfk: np.ndarray) -> None:
    path = tmp_path / "st.wav"
    sf.write(str(path), np.stack([jfk, jfk], 1), SAMPLE_RATE)
    blocks = list(stream_audio(path, block_seconds=3.0))
    assert [len(b) for b in blocks] == [48000, 48000, 48000, 32000]
    np.testing.assert_allclose(np.concatenate(blocks), jfk, atol=1e-6)

    # Resampled in small blocks == resampled at once (no clicks at block boundaries).
    path48 = tmp_path / "mono48.wav"
    sf.write(str(path48), soxr.resample(jfk, SAMPLE_RATE, 48000), 48000, subtype="FLOAT")
    small = np.concatenate(list(stream_audio(path48, block_seconds=0.7)))
    np.testing.assert_allclose(small, load_audio(path48), atol=1e-6)


@pytest.mark.parametrize(
    ("name", "codec", "rate", "video"),
    [
        ("speech.mp3", "libmp3lame", 44100, False),
        ("speech.m4a", "aac", 44100, False),
        ("speech.mkv", "libopus", 48000, False),
        ("clip.mp4", "aac", 48000, True),
    ],
)
def test_compressed_audio_and_video_decode(
    tmp_path: Path, jfk: np.ndarray, name: str, codec: str, rate: int, video: bool
) -> None:
    clip = jfk[: 4 * SAMPLE_RATE]
    hi = soxr.resample(clip, SAMPLE_RATE, rate)
    path = tmp_path / name
    _encode(path, codec, np.stack([hi, hi], 1), rate, video=video)
    meta = probe(path)
    assert isinstance(meta, AudioMeta)
    assert (meta.sample_rate, meta.channels) == (rate, 2)
    assert meta.duration == pytest.approx(4.0, abs=0.1)
    audio = load_audio(path)
    assert audio.dtype == np.float32
    assert len(audio) / SAMPLE_RATE == pytest.approx(4.0, abs=0.1)
    assert _similar(audio, clip) > 0.95


def test_truncated_files_give_what_can_be_decoded(tmp_path: Path, jfk: np.ndarray) -> None:
    wav = tmp_path / "full.wav"
    sf.write(str(wav), jfk, SAMPLE_RATE)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav.read_bytes()[: 44 + len(jfk)])  # header + half the 16-bit samples
    assert len(load_audio(cut)) / SAMPLE_RATE == pytest.approx(5.5, abs=0.05)

    mp3 = tmp_path / "full.mp3"
    _encode(mp3, "libmp3lame", np.stack([jfk, jfk], 1), SAMPLE_RATE)
    cut_mp3 = tmp_path / "cut.mp3"
    cut_mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    assert len(load_audio(cut_mp3)) / SAMPLE_RATE == pytest.approx(5.5, abs=0.5)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    """name -> (path, words the message must contain)."""
    text = tmp_path / "notes.txt"
    text.write_text("These are meeting notes, not a recording.\n" * 20)
    png = tmp_path / "picture.png"
    with av.open(str(png), "w", format="image2") as out:
        s = out.add_stream("png")
        s.width, s.height, s.pix_fmt = 16, 16, "rgb24"
        out.mux(s.encode(av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")))
        out.mux(s.encode(None))
    empty_wav = tmp_path / "empty.wav"
    sf.write(str(empty_wav), np.zeros(0, np.float32), SAMPLE_RATE)
    zero = tmp_path / "zero.wav"
    zero.write_bytes(b"")
    silent_video = tmp_path / "silent.mp4"
    with av.open(str(silent_video), "w") as out:
        s = out.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            out.mux(s.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")))
        out.mux(s.encode(None))
    garbage = tmp_path / "broken.mp3"
    garbage.write_bytes(np.random.default_rng(0).bytes(20000))
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "missing": (tmp_path / "nope.wav", ["File not found", "nope.wav", "check the path"]),
        "folder": (folder, ["folder"]),
        "zero_bytes": (zero, ["'zero.wav'", "empty"]),
        "text": (text, ["'notes.txt'", "not an audio or video file", "WAV", "MP3"]),
        "png": (png, ["'picture.png'", "not an audio or video file"]),
        "no_samples": (empty_wav, ["'empty.wav'", "contains no audio", "0 seconds"]),
        "video_without_audio": (silent_video, ["'silent.mp4'", "no audio track"]),
        "garbage": (garbage, ["'broken.mp3'", "damaged"]),
    }


def test_bad_inputs_raise_one_line_audio_errors(tmp_path: Path) -> None:
    for case, (path, words) in _bad_inputs(tmp_path).items():
        for call in (probe, load_audio, lambda p: WindowSource(p, None)):
            with pytest.raises(AudioError) as info:
                call(path)
            message = str(info.value)
            assert "\n" not in message, case
            for word in words:
                assert word in message, (case, message)


# ----------------------------------------------------------------------------- VAD


def test_vad_finds_jfk_speech(vad: SileroVAD, jfk: np.ndarray) -> None:
    probs = vad.speech_probs(jfk)
    assert probs.shape == (int(np.ceil(len(jfk) / 512)),)
    assert probs.dtype == np.float32 and probs.min() >= 0.0 and probs.max() <= 1.0
    regions = vad.regions_from_array(jfk)
    assert regions, "no speech found in jfk.wav"
    assert abs(regions[0][0] - JFK_SPEECH_ONSET) < 0.5
    assert all(0 <= s < e <= 11.0 for s, e in regions)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(regions))
    assert sum(e - s for s, e in regions) > 7.0


def test_frame_by_frame_model_agrees_with_sequence_model(vad: SileroVAD, jfk: np.ndarray) -> None:
    frame_model = SileroVAD(model_path=vad_module.find_model_dir() / "silero_vad.onnx")
    assert vad._sequence and not frame_model._sequence
    np.testing.assert_allclose(frame_model.speech_probs(jfk), vad.speech_probs(jfk), atol=1e-4)


def test_vad_ignores_silence_and_low_noise(vad: SileroVAD) -> None:
    silence = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    assert vad.regions_from_array(silence) == []
    noise = np.random.default_rng(1).normal(0, 0.01, 5 * SAMPLE_RATE).astype(np.float32)
    assert vad.regions_from_array(noise) == []


def test_vad_streaming_matches_whole_array(vad: SileroVAD, jfk: np.ndarray) -> None:
    audio = np.concatenate([jfk, np.zeros(SAMPLE_RATE, np.float32), jfk])
    rng = np.random.default_rng(2)
    cuts = np.sort(rng.integers(0, len(audio), 25))
    blocks = np.split(audio, cuts)  # includes empty and tiny blocks
    assert list(vad.regions(blocks)) == vad.regions_from_array(audio)
    second = [r for r in vad.regions_from_array(audio) if r[0] > 12.0]
    assert second and abs(second[0][0] - (12.0 + JFK_SPEECH_ONSET)) < 0.5


def test_vad_cuts_long_speech(jfk: np.ndarray) -> None:
    short = SileroVAD(max_speech_s=3.0)
    regions = short.regions_from_array(jfk)
    assert all(e - s <= 3.0 + 0.3 for s, e in regions)
    assert sum(e - s for s, e in regions) > 7.0


def test_missing_vad_package_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vad_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install silero-vad"):
        SileroVAD()


def test_broken_vad_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "vad.onnx"
    bad.write_bytes(b"not a model" * 10)
    with pytest.raises(ModelError, match="could not be loaded"):
        SileroVAD(model_path=bad)
    with pytest.raises(ModelError, match="not found"):
        SileroVAD(model_path=tmp_path / "missing.onnx")


def test_engine_audio_never_imports_torch() -> None:
    code = (
        "import sys, numpy as np; import engine.audio.windows as w, engine.audio.vad as v;"
        "v.SileroVAD().speech_probs(np.zeros(16000, np.float32));"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'silero_vad', 'PyQt6', 'PySide6')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


# ----------------------------------------------------------------------------- windows


def test_plan_windows_packs_splits_and_pads() -> None:
    regions = [(1.0, 5.0), (6.0, 20.0), (21.0, 29.0), (29.2, 40.0), (50.0, 120.0), (121.0, 122.0)]
    windows = list(plan_windows(regions, max_seconds=30.0, max_gap=5.0, pad=0.2, duration=122.5))
    assert all(w.duration <= 30.0 + 1e-9 for w in windows)
    assert all(a.end <= b.start for a, b in itertools.pairwise(windows))
    # (29.2, 40) does not fit: the window closes at its longest pause (20 -> 21 s), not at the
    # 0.2 s breath before that region; padded 0.2 s on each side.
    assert (windows[0].start, windows[0].end) == pytest.approx((0.8, 20.2))
    assert (windows[1].start, windows[1].end) == pytest.approx((20.8, 40.2))
    # 70 s region: three equal pieces, then the next region joins the last piece.
    long_pieces = [w for w in windows if w.start >= 49.0]
    assert len(long_pieces) == 3
    assert long_pieces[-1].end == pytest.approx(122.2)
    for s, e in regions:  # every region is inside the windows
        assert sum(max(0.0, min(e, w.end) - max(s, w.start)) for w in windows) == pytest.approx(e - s)


def test_full_window_closes_at_the_turn_not_inside_a_sentence() -> None:
    # Quick turn-taking: utterances separated by ~0.6 s, breaths of 0.1 s inside them. A window
    # must never end at a breath when a turn boundary is available in its last two thirds.
    turns = [(0.0, 9.0), (9.6, 21.0), (21.6, 33.0), (33.6, 45.0), (45.6, 58.0)]
    regions = []
    for s, e in turns:  # each utterance as regions with 0.1 s breaths every ~2.5 s
        t = s
        while t < e:
            regions.append((t, min(e, t + 2.4)))
            t += 2.5
    windows = list(plan_windows(regions, max_seconds=30.0, max_gap=5.0, pad=0.0))
    ends = [w.end for w in windows[:-1]]
    assert ends and all(any(abs(end - e) < 1e-6 for _, e in turns) for end in ends), ends
    assert all(w.duration <= 30.0 + 1e-9 for w in windows)


def test_plan_windows_breaks_at_long_pauses_and_clips_to_file() -> None:
    windows = list(plan_windows([(0.05, 2.0), (9.0, 10.0)], max_seconds=30.0, max_gap=5.0, pad=0.2))
    assert len(windows) == 2
    assert windows[0].start == 0.0  # never before the start of the file
    windows = list(plan_windows([(1.0, 9.95)], pad=0.2, duration=10.0))
    assert len(windows) == 1
    assert (windows[0].start, windows[0].end) == pytest.approx((0.8, 10.0))  # never past the end
    windows = list(plan_windows([(0.0, 30.0)], pad=0.2))
    assert windows == [Window(0.0, 30.0)]  # padding never exceeds max_seconds


@pytest.fixture(scope="module")
def longform_windows(vad: SileroVAD) -> tuple[WindowSource, list[tuple[Window, np.ndarray]]]:
    source = WindowSource(_longform_path(), vad)
    return source, list(source)


def test_windows_cover_every_utterance_of_longform(longform_windows) -> None:
    source, pairs = longform_windows
    windows = [w for w, _ in pairs]
    assert source.duration == pytest.approx(331.95, abs=0.01)
    assert source.speech_seconds is not None and 250 < source.speech_seconds < source.duration
    assert all(0 < w.duration <= 30.0 + 1e-9 for w in windows)
    assert all(a.end <= b.start for a, b in itertools.pairwise(windows))
    with open(LONGFORM.with_suffix(".segments.tsv"), newline="") as f:
        utterances = [(float(r["start"]), float(r["end"])) for r in csv.DictReader(f, delimiter="\t")]
    assert len(utterances) == 50
    for s, e in utterances:
        covered = sum(max(0.0, min(e, w.end) - max(s, w.start)) for w in windows)
        # windows end in pauses (padded): only an utterance's own leading/trailing silence and
        # a phrase pause inside it may fall between two windows
        assert covered / (e - s) > 0.85, (s, e, covered)


def test_window_audio_is_the_right_slice(longform_windows) -> None:
    _, pairs = longform_windows
    full = load_audio(_longform_path())
    for w, audio in pairs:
        assert audio.dtype == np.float32
        assert len(audio) == round(w.duration * SAMPLE_RATE)
        start = round(w.start * SAMPLE_RATE)
        np.testing.assert_array_equal(audio, full[start : start + len(audio)])


def test_window_source_without_vad_gives_fixed_chunks(tmp_path: Path, jfk: np.ndarray) -> None:
    path = tmp_path / "long.wav"
    sf.write(str(path), np.tile(jfk, 7), SAMPLE_RATE)  # 77 s
    pairs = list(WindowSource(path, None, max_seconds=30.0))
    assert [(w.start, w.end) for w, _ in pairs] == [(0.0, 30.0), (30.0, 60.0), (60.0, 77.0)]
    assert [len(a) for _, a in pairs] == [480000, 480000, 272000]
