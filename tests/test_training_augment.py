"""Augmentation for fine-tuning (engine/training/augment.py, noise.py).

What a user notices: noise at the SNR asked for (measured on the speech, not its silence), a
faster clip that is shorter and higher, masks inside the speech and of the sizes set, the same
seed giving the same training data in any worker order, switches off changing nothing, and a
clear message for a bad noise folder or setting.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.asr.features import N_SAMPLES, log_mel
from engine.audio import SAMPLE_RATE
from engine.audio.decode import load_audio
from engine.training.augment import (
    AugmentConfig,
    AugmentConfigError,
    AugmentKey,
    NoiseConfig,
    SpecAugmentConfig,
    SpeedConfig,
    audio_frames,
    augment_audio,
    augment_mel,
    change_speed,
    draw_audio,
    draw_masks,
    preview,
)
from engine.training.noise import NoiseError, NoiseSource

NOISE_ONLY = AugmentConfig(SpecAugmentConfig(enabled=False), NoiseConfig(probability=1.0), SpeedConfig(enabled=False))
SPEED_ONLY = AugmentConfig(SpecAugmentConfig(enabled=False), NoiseConfig(enabled=False), SpeedConfig(probability=1.0))
SPEC_ONLY = AugmentConfig(SpecAugmentConfig(), NoiseConfig(enabled=False), SpeedConfig(enabled=False))


def _sine(hz: float, seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def _peak_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), n=8 * len(audio)))
    return float(np.argmax(spectrum) * SAMPLE_RATE / (8 * len(audio)))


def _db(signal: np.ndarray, noise: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(signal.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def speech(data_dir) -> np.ndarray:
    return load_audio(data_dir / "asr_en" / "jfk.wav")


@pytest.fixture(scope="module")
def pool(data_dir) -> list[Path]:
    return sorted((data_dir / "speaker_pool").glob("*.flac"))[:24]


@pytest.fixture
def noise_folder(tmp_path) -> Path:
    """Noise as users have it: other rates, stereo, FLAC and WAV, in a subfolder."""
    rng = np.random.default_rng(0)
    (tmp_path / "street").mkdir()
    sf.write(tmp_path / "hum.wav", np.stack([_sine(50, 2.0, 44100)] * 2, axis=1), 44100)
    sf.write(tmp_path / "street" / "hiss.flac", rng.normal(0, 0.05, 3 * 22050).astype(np.float32), 22050)
    return tmp_path


# ----------------------------------------------------------------------------- noise at an SNR


@pytest.mark.parametrize("kind", ["babble", "folder"])
def test_noise_is_at_the_drawn_snr_measured_on_the_speech_not_its_silence(kind, speech, pool, noise_folder):
    silence = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    clip = np.concatenate([silence, speech, silence])
    span = slice(len(silence), len(silence) + len(speech))
    source = NoiseSource.from_clips(pool) if kind == "babble" else NoiseSource.from_folder(noise_folder)
    drawn = []
    for index in range(6):
        key = AugmentKey(7, 0, index)
        snr = draw_audio(len(clip), key, NOISE_ONLY).snr_db
        out = augment_audio(clip, key, NOISE_ONLY, source)
        noise = out - clip
        assert len(out) == len(clip) and 5.0 <= snr <= 20.0
        assert _db(clip[span], noise[span]) == pytest.approx(snr, abs=0.5)
        assert abs(_db(clip, noise) - snr) > 1.0  # measured over the silence too, it would be off
        assert np.abs(noise[: len(silence)]).max() > 0  # the noise goes on in the pauses
        drawn.append(snr)
    assert max(drawn) - min(drawn) > 3.0  # drawn, not fixed


def test_snr_range_is_configurable_and_babble_never_includes_the_clip_itself(tmp_path):
    sf.write(tmp_path / "a.wav", _sine(440, 1.0), SAMPLE_RATE)
    sf.write(tmp_path / "b.wav", _sine(1000, 1.0), SAMPLE_RATE)
    source = NoiseSource.from_clips([tmp_path / "a.wav", tmp_path / "b.wav"])
    config = replace(NOISE_ONLY, noise=NoiseConfig(probability=1.0, min_snr_db=30.0, max_snr_db=30.0))
    clip = _sine(440, 2.0)
    out = augment_audio(clip, AugmentKey(0, 0, 0), config, source, exclude=tmp_path / "a.wav")
    assert _db(clip, out - clip) == pytest.approx(30.0, abs=0.5)
    assert _peak_hz(out - clip) == pytest.approx(1000, abs=2)  # only b babbles
    with pytest.raises(NoiseError, match="other than the one being augmented"):
        NoiseSource.from_clips([tmp_path / "a.wav"]).draw(100, np.random.default_rng(0), exclude=tmp_path / "a.wav")


def test_a_short_noise_recording_is_looped_from_a_random_offset(tmp_path):
    rng = np.random.default_rng(1)
    sf.write(tmp_path / "short.wav", rng.normal(0, 0.1, SAMPLE_RATE // 2).astype(np.float32), SAMPLE_RATE)
    source = NoiseSource.from_folder(tmp_path)
    a, b = (source.draw(2 * SAMPLE_RATE, np.random.default_rng(seed)) for seed in (1, 2))
    period = SAMPLE_RATE // 2
    np.testing.assert_array_equal(a[:period], a[period : 2 * period])
    assert not np.array_equal(a, b)  # another offset


def test_the_clip_cache_stays_within_its_size_and_is_not_pickled_into_workers(pool):
    source = NoiseSource.from_clips(pool, cache_mb=1.0)
    first = source.draw(SAMPLE_RATE, np.random.default_rng(3))
    for seed in range(10):
        source.draw(SAMPLE_RATE, np.random.default_rng(seed))
        assert sum(c.nbytes for c in source._cache.values()) <= 1e6 or len(source._cache) == 1
    everyone = sorted(pool[0].parent.glob("*.flac"))  # 252 voices: a fixed 32 take part, in every worker
    assert len(NoiseSource.from_clips(everyone).paths) == 32
    assert NoiseSource.from_clips(everyone).paths == NoiseSource.from_clips(everyone[::-1][::-1]).paths
    worker = pickle.loads(pickle.dumps(source))
    assert not worker._cache
    np.testing.assert_array_equal(worker.draw(SAMPLE_RATE, np.random.default_rng(3)), first)


# ----------------------------------------------------------------------------- speed


@pytest.mark.parametrize("factor", [1.2, 0.8])
def test_speed_changes_length_and_pitch_together(factor):
    tone = _sine(440, 2.0)
    config = replace(SPEED_ONLY, speed=SpeedConfig(probability=1.0, min_factor=factor, max_factor=factor))
    out = augment_audio(tone, AugmentKey(0, 0, 0), config)
    assert len(out) == pytest.approx(len(tone) / factor, abs=1)
    assert _peak_hz(out) == pytest.approx(440 * factor, abs=1.0)  # 528 Hz at 1.2x, 352 Hz at 0.8x
    np.testing.assert_array_equal(out, change_speed(tone, factor))


def test_speed_is_drawn_in_its_range_and_never_stretches_a_clip_past_30_s():
    factors = [draw_audio(SAMPLE_RATE, AugmentKey(0, 0, i), SPEED_ONLY).speed for i in range(50)]
    assert all(0.8 <= f <= 1.2 for f in factors) and max(factors) - min(factors) > 0.25
    long = np.zeros(29 * SAMPLE_RATE, dtype=np.float32)
    long[::7] = 0.1
    for i in range(10):
        out = augment_audio(long, AugmentKey(0, 0, i), SPEED_ONLY)
        assert len(out) <= N_SAMPLES


# ----------------------------------------------------------------------------- SpecAugment


def _masked(mel: np.ndarray, time: list, freq: list, n_frames: int) -> np.ndarray:
    mask = np.zeros(mel.shape, dtype=bool)
    for start, width in time:
        mask[:, start : start + width] = True
    for start, width in freq:
        mask[start : start + width, :n_frames] = True
    return mask


def test_masks_are_inside_the_speech_frames_and_of_the_configured_sizes(speech):
    mel = log_mel(speech)  # Whisper's 30 s window: 1100 frames of speech, then padding
    n = audio_frames(len(speech))
    assert n == 1100
    widths_t, widths_f = [], []
    for index in range(200):
        key = AugmentKey(0, 0, index)
        out = augment_mel(mel, n, key, SPEC_ONLY)
        time, freq = draw_masks(mel.shape[0], n, key, SPEC_ONLY)
        assert len(time) == 2 and len(freq) == 1
        assert all(start + width <= n for start, width in time)
        changed = out != mel
        np.testing.assert_array_equal(changed, _masked(mel, time, freq, n))
        assert not changed[:, n:].any()  # the padding is as it was
        if changed.any():
            assert np.allclose(out[changed], mel[:, :n].mean())
        widths_t += [w for _, w in time]
        widths_f += [w for _, w in freq]
    assert max(widths_t) == 10 and max(widths_f) == 5  # up to the maximum, never past it
    assert min(widths_t) == 0 and min(widths_f) == 0


def test_a_short_clip_keeps_most_of_its_frames_and_floor_fill_is_whispers_silence():
    frames = 30  # 0.3 s
    assert max(w for i in range(100) for _, w in draw_masks(80, frames, AugmentKey(0, 0, i), SPEC_ONLY)[0]) == 6
    tone = _sine(440, 1.0)
    mel = log_mel(tone)
    config = replace(SPEC_ONLY, spec_augment=SpecAugmentConfig(fill="floor", max_time_width=50))
    out = augment_mel(mel, audio_frames(len(tone)), AugmentKey(0, 0, 1), config)
    assert np.allclose(out[out != mel], mel[0, -1])  # the value Whisper's padding has


# ----------------------------------------------------------------------------- seeds and switches


def test_the_same_key_gives_the_same_result_in_any_order_and_each_draw_is_its_own(speech, pool):
    config = replace(AugmentConfig(), noise=NoiseConfig(probability=1.0), speed=SpeedConfig(probability=1.0))
    keys = [AugmentKey(5, epoch, index) for epoch in (0, 1) for index in range(3)]

    def run(order, source):
        return {k: augment_audio(speech, k, config, source) for k in order}

    forward = run(keys, NoiseSource.from_clips(pool))
    backward = run(keys[::-1], NoiseSource.from_clips(pool, cache_mb=0.1))  # another worker, other cache
    for k in keys:
        np.testing.assert_array_equal(forward[k], backward[k])
    assert not np.array_equal(forward[keys[0]], forward[keys[3]])  # another epoch hears it otherwise
    mel = log_mel(speech)
    np.testing.assert_array_equal(
        augment_mel(mel, 1100, keys[1], config), augment_mel(mel.copy(), 1100, keys[1], config)
    )
    no_speed = replace(config, speed=SpeedConfig(enabled=False))  # an ablation changes one thing
    assert draw_audio(len(speech), keys[2], no_speed).snr_db == draw_audio(len(speech), keys[2], config).snr_db


def test_switches_off_change_nothing(speech):
    mel = log_mel(speech)
    never = AugmentConfig(SpecAugmentConfig(probability=0.0), NoiseConfig(probability=0.0), SpeedConfig(probability=0))
    for config in (AugmentConfig.off(), never):
        source = None if config == AugmentConfig.off() else NoiseSource.from_clips(["unused.wav"])
        for index in range(5):
            key = AugmentKey(0, 0, index)
            assert augment_audio(speech, key, config, source) is speech
            assert augment_mel(mel, 1100, key, config) is mel
    before, after, audio = preview(speech, AugmentConfig.off(), seed=0)
    np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(audio, speech)
    assert before.shape == (80, 1100)


def test_preview_shows_what_training_will_hear(speech, pool):
    config = replace(AugmentConfig(), noise=NoiseConfig(probability=1.0), speed=SpeedConfig(probability=1.0))
    before, after, audio = preview(speech, config, seed=3, noise_source=NoiseSource.from_clips(pool))
    factor = draw_audio(len(speech), AugmentKey(3, 0, 0), config).speed
    assert len(audio) == pytest.approx(len(speech) / factor, abs=1)
    assert before.shape == (80, 1100) and after.shape == (80, audio_frames(len(audio)))
    np.testing.assert_array_equal(before, log_mel(speech)[:, :1100])


# ----------------------------------------------------------------------------- settings and bad input


def test_settings_map_onto_toml_and_back():
    tomllib = pytest.importorskip("tomllib")
    text = """
    [noise]
    min_snr_db = 10
    folder = "/data/noise"
    [speed]
    enabled = false
    [spec_augment]
    time_masks = 3
    """
    config = AugmentConfig.from_dict(tomllib.loads(text))
    assert config.noise.min_snr_db == 10.0 and config.noise.max_snr_db == 20.0
    assert config.noise.folder == "/data/noise" and not config.speed.enabled and config.spec_augment.time_masks == 3
    assert AugmentConfig.from_dict(config.to_dict()) == config
    assert AugmentConfig.from_dict({}) == AugmentConfig()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reverb": {}}, "unknown key 'augment.reverb'"),
        ({"noise": {"snr_db": [5, 20]}}, "unknown key 'augment.noise.snr_db'"),
        ({"speed": {"enabled": "yes"}}, "augment.speed.enabled: 'yes' is not true or false"),
        ({"spec_augment": {"time_masks": 1.5}}, "augment.spec_augment.time_masks: 1.5 is not a whole number"),
        ({"noise": {"min_snr_db": -1}}, "augment.noise.min_snr_db: -1 is outside 0-40 dB"),
        ({"noise": {"max_snr_db": 45}}, "augment.noise.max_snr_db: 45 is outside 0-40 dB"),
        ({"noise": {"min_snr_db": 20, "max_snr_db": 5}}, "the range is inverted"),
        ({"speed": {"min_factor": 0.4}}, "augment.speed.min_factor: 0.4 is outside 0.5-2x"),
        ({"speed": {"min_factor": 1.2, "max_factor": 0.9}}, "augment.speed.min_factor: 1.2 is above max_factor"),
        ({"spec_augment": {"fill": "zero"}}, "'zero' is not one of mean, floor"),
        ({"noise": 5}, "augment.noise: must be a table"),
    ],
)
def test_bad_settings_say_which_key_and_what_is_allowed(data, message):
    with pytest.raises(AugmentConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        AugmentConfig.from_dict(data)


def test_bad_noise_folders_say_what_to_do(tmp_path, noise_folder, caplog):
    with pytest.raises(NoiseError, match="not found"):
        NoiseSource.from_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("noise goes here")
    with pytest.raises(NoiseError, match="holds no audio"):
        NoiseSource.from_folder(tmp_path / "empty")
    (noise_folder / "broken.wav").write_bytes(b"RIFF not really a wav")
    with caplog.at_level(logging.WARNING, logger="minutes.training"):
        source = NoiseSource.from_folder(noise_folder)
    assert "broken.wav" in caplog.text and len(source.draw(SAMPLE_RATE, np.random.default_rng(0))) == SAMPLE_RATE
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.wav", "b.mp3"):
        (bad / name).write_bytes(b"\0" * 64)
    with pytest.raises(NoiseError, match="none of the 2 audio files .* can be used as noise.*replace them"):
        NoiseSource.from_folder(bad)
    silent = tmp_path / "silent"
    silent.mkdir()
    sf.write(silent / "zeros.wav", np.zeros(SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(NoiseError, match="zeros.wav: it is silent"):
        NoiseSource.from_folder(silent).draw(100, np.random.default_rng(0))
    with pytest.raises(NoiseError, match="no clips to make babble from"):
        NoiseSource.from_clips([])
    with pytest.raises(ValueError, match="give augment_audio a NoiseSource"):
        augment_audio(_sine(440, 1.0), AugmentKey(0, 0, 0), NOISE_ONLY)


def test_the_config_names_the_noise_a_folder_or_babble_of_the_training_clips(noise_folder, pool):
    folder = NoiseSource.from_config(NoiseConfig(folder=str(noise_folder)), clips=pool)
    assert folder.babble is None and {p.name for p in folder.paths} == {"hum.wav", "hiss.flac"}
    babble = NoiseSource.from_config(NoiseConfig(min_babble_speakers=2, max_babble_speakers=4), clips=pool)
    assert babble.babble == (2, 4) and babble.paths == pool
