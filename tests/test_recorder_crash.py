"""The session recording stays a valid WAV at every moment, so any program can read it after a crash
without Minutes' recovery; recovery still mends headers that are stale (older versions, or a kill
between the data write and the header write)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.audio.decode import load_audio

REPO = Path(__file__).resolve().parents[1]


def _events(path: Path) -> list[dict]:
    """The event log's complete lines (the last one may be half-written when the process is killed)."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            pass
    return found


def _header_sizes(path: Path) -> tuple[int, int]:
    """(RIFF chunk size, data chunk size) as the header on disk says."""
    with open(path, "rb") as f:
        head = f.read(44)
    return struct.unpack("<I", head[4:8])[0], struct.unpack("<I", head[40:44])[0]


@pytest.fixture
def live_env(tmp_path, recognizer) -> dict:
    """A data folder of its own (no stray sessions) sharing the exported models of the test cache
    (``recognizer`` makes sure they exist, so the subprocess does not convert them)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(Path(os.environ["MINUTES_DATA_DIR"]) / "models", target_is_directory=True)
    return {**os.environ, "MINUTES_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}


def test_recording_is_a_valid_wav_while_it_is_written(tmp_path):
    """Between blocks the header's sizes match the samples, so readers see them all."""
    import soundfile as sf

    from engine.audio.recorder import Recorder

    rec = Recorder(tmp_path / "s", {"input": "test"})
    tone = (0.3 * np.sin(np.arange(1600) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    for i in range(1, 4):
        rec.write(tone)
        path = tmp_path / "s" / "audio.wav"
        assert _header_sizes(path) == (36 + 2 * 1600 * i, 2 * 1600 * i)
        data, rate = sf.read(path, dtype="float32")
        assert rate == 16000 and data.size == 1600 * i
    np.testing.assert_allclose(data[-1600:], tone, atol=1 / 16000)
    rec.close()


def test_recover_still_mends_a_stale_header(tmp_path):
    """A file from an older version (sizes 0) or killed between data and header write, plus half a sample."""
    import soundfile as sf

    from engine.audio.recorder import Recorder, recover

    rec = Recorder(tmp_path / "s", {"input": "test"})
    rec.write(np.full(800, 0.25, dtype=np.float32))
    rec._f.close()  # the process "dies": no close(), the session stays "recording"
    rec._lockfile.close()
    path = tmp_path / "s" / "audio.wav"
    with open(path, "r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", 36))  # stale, as an older version left it
        f.seek(40)
        f.write(struct.pack("<I", 0))
        f.seek(0, os.SEEK_END)
        f.write(np.full(400, 8192, dtype="<i2").tobytes() + b"\x01")  # a block the header missed, half a sample
    recover(tmp_path / "s")
    data, _ = sf.read(path, dtype="float32")
    assert data.size == 1200 and _header_sizes(path) == (36 + 2400, 2400)
    np.testing.assert_allclose(data, 0.25, atol=1 / 16000)
    assert json.loads((tmp_path / "s" / "session.json").read_text())["state"] == "recovered"


@pytest.mark.slow
def test_sigkilled_live_session_audio_reads_without_recovery(tmp_path, data_dir, live_env):
    """`minutes live --from-file --realtime` killed with SIGKILL: soundfile alone reads the session's
    audio.wav, holding at least all but the last second before the kill, sample for sample the source."""
    import soundfile as sf

    source = data_dir / "longform" / "en_asr_concat.wav"
    if not source.exists():
        pytest.skip(f"{source} not found")
    events, session = tmp_path / "events.jsonl", tmp_path / "session"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli", "live", "--from-file", str(source), "--realtime", "--language", "en",
            "--events", str(events), "--session-dir", str(session), "--no-speakers", "--no-chapters", "-q",
        ],
        cwd=REPO, env=live_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.time() + 90
        while not any(e["type"] == "level" and e.get("audio_end", 0) >= 6.0 for e in _events(events)):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "not 6 s of audio within 90 s"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stderr.close()
    log = _events(events)
    started = log[0]
    assert started["type"] == "started" and Path(started["folder"]) == session
    heard = killed - started["wall"]  # audio time 0 is `started`; --realtime feeds at the pace of the clock
    last_level = max(e["audio_end"] for e in log if e["type"] == "level")  # on disk when it was logged

    audio, rate = sf.read(session / "audio.wav", dtype="float32")  # no recovery: the file as the kill left it
    seconds = audio.size / rate
    print(f"SIGKILL after {heard:.2f} s of audio: {seconds:.2f} s readable ({heard - seconds:.2f} s short)")
    assert rate == 16000
    assert seconds >= last_level, f"{seconds:.2f} s readable, but {last_level:.2f} s were logged as recorded"
    assert seconds >= heard - 1.0, f"{seconds:.2f} s readable after {heard:.2f} s of audio"
    assert seconds <= heard + 0.2, "more audio than real time allows: not a real-time session?"
    original = load_audio(source)[: audio.size]
    assert original.size == audio.size
    assert np.max(np.abs(original - audio)) < 2 / 32768  # the file's samples, 16-bit
    assert json.loads((session / "session.json").read_text())["state"] == "recording"  # nothing recovered it
