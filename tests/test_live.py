"""Live meetings: streaming recognition, the live session and its events, the crash-safe recorder,
recovery after SIGKILL, and `minutes live`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.audio.decode import load_audio
from resources import DEMO_AUDIO

REPO = Path(__file__).resolve().parents[1]
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def words_of(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()


def word_errors(ref: str, hyp: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words_of(ref)), " ".join(words_of(hyp)))


@pytest.fixture(scope="module")
def stream_model(recognizer):
    return recognizer.live_model()


def run_stream(model, tok, audio: np.ndarray, block: float = 0.1, **options):
    from engine.asr.streaming import SegmentEvent, StreamingOptions, StreamingRecognizer

    rec = StreamingRecognizer(model, tok, StreamingOptions(language="en", **options))
    events = []
    step = int(block * 16000)
    for i in range(0, audio.size, step):
        fed = (i + step) / 16000
        events += [(fed, e) for e in rec.feed(audio[i : i + step])]
    events += [(audio.size / 16000, e) for e in rec.finish()]
    segments = [e.segment for _, e in events if isinstance(e, SegmentEvent)]
    return rec, events, segments


# -- the variable-length model -------------------------------------------------------------------


def test_trimmed_model_is_the_same_model_and_takes_short_input(recognizer, stream_model):
    """The rewritten graphs read 30 s like the export does, and also fewer frames (cheaper)."""
    from engine.asr.decoding import Decoder, DecodingOptions
    from engine.asr.features import log_mel

    audio = load_audio(DEMO_AUDIO)
    full = log_mel(audio)[None]
    a, b = recognizer.model.encode(full), stream_model.encode(full)
    assert all(x.shape == y.shape for x, y in zip(a, b))
    assert max(float(np.abs(x - y).max() / (np.abs(x).max() + 1e-6)) for x, y in zip(a, b)) < 0.02
    short = stream_model.encode(log_mel(audio, n_frames=1400)[None])  # 11 s of speech + 3 s
    assert short[0].shape[-1] == 700
    opts = DecodingOptions(language="en", beam_size=1, without_timestamps=True, temperatures=(0.0,))
    text = recognizer.tokenizer.decode(Decoder(stream_model, recognizer.tokenizer).decode(short, opts)[0].tokens)
    assert word_errors(JFK, text) <= 0.1


# -- streaming recognizer -----------------------------------------------------------------------


def test_streaming_shows_partials_first_and_confirms_every_word_once(recognizer, stream_model):
    from engine.asr.streaming import TextEvent

    audio = load_audio(DEMO_AUDIO)
    rec, events, segments = run_stream(stream_model, recognizer.tokenizer, audio)
    text_events = [(t, e) for t, e in events if isinstance(e, TextEvent)]
    confirmed = [w for _, e in text_events if e.kind == "confirmed" for w in e.words]
    text = " ".join(s.text for s in segments)
    assert word_errors(JFK, text) <= 0.1, text
    # each word is confirmed once, in time order, inside the audio
    assert [words_of(w.word) for w in confirmed if words_of(w.word)] == [
        words_of(w.word) for s in segments for w in s.words if words_of(w.word)
    ]
    starts = [w.start for w in confirmed]
    assert starts == sorted(starts) and 0 <= starts[0] and confirmed[-1].end <= 11.1
    # "Americans" (ends ~2.9 s) is shown as a partial before it is confirmed, and confirmed within 2 s of audio
    first_partial = next(t for t, e in text_events if e.kind == "partial" and "Americans" in e.text)
    first_confirmed = next(t for t, e in text_events if e.kind == "confirmed" and "Americans" in e.text)
    assert first_partial < first_confirmed <= 2.9 + 2.0
    assert rec.stats["hypotheses"] >= 10  # many small updates, not one file-style pass


def test_streaming_catches_up_with_big_chunks(recognizer, stream_model):
    """When compute lags, the session hands over seconds at once: fewer hypotheses, same text."""
    audio = load_audio(DEMO_AUDIO)
    small, _, _ = run_stream(stream_model, recognizer.tokenizer, audio, block=0.1)
    big, _, segments = run_stream(stream_model, recognizer.tokenizer, audio, block=3.0)
    assert word_errors(JFK, " ".join(s.text for s in segments)) <= 0.15
    assert big.stats["hypotheses"] < small.stats["hypotheses"] / 2


def test_streaming_silence_gives_nothing(recognizer, stream_model):
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(16000 * 8) * 1e-3).astype(np.float32)
    rec, events, segments = run_stream(stream_model, recognizer.tokenizer, noise)
    assert segments == [] and rec.stats["hypotheses"] == 0
    assert rec.audio.size <= 16000  # only a little pre-roll is kept


@pytest.mark.slow
def test_streaming_memory_and_window_stay_bounded(recognizer, stream_model, data_dir):
    """A minute of speech with no long pause: the window is cut, the audio kept stays small."""
    from engine.asr.streaming import StreamingOptions, StreamingRecognizer

    audio = load_audio(data_dir / "longform" / "en_asr_concat.wav")[: 16000 * 60]
    rec = StreamingRecognizer(stream_model, recognizer.tokenizer, StreamingOptions(language="en"))
    kept = []
    for i in range(0, audio.size, 1600):
        rec.feed(audio[i : i + 1600])
        kept.append(rec.audio.size / 16000)
    rec.finish()
    o = rec.opts
    assert max(kept) <= o.max_window_seconds + 1.0
    assert len(rec.context) <= o.prompt_chars


# -- recorder -------------------------------------------------------------------------------------


def test_recorder_writes_a_valid_wav_and_reads_back(tmp_path):
    import soundfile as sf

    from engine.audio.recorder import Recorder, unfinished_sessions

    rec = Recorder(tmp_path / "s1", {"input": "test"})
    tone = (0.3 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    for _ in range(3):
        rec.write(tone)
    # while recording, the samples are already in the file and the session is not "unfinished"
    assert (tmp_path / "s1" / "audio.wav").stat().st_size == 44 + 3 * 16000 * 2
    assert unfinished_sessions(tmp_path) == []
    np.testing.assert_allclose(rec.read(1.0, 1.5), tone[:8000], atol=1 / 16000)
    assert len(rec.read(2.5, float("inf"))) == 8000  # "to the end" (the speaker pass's last read)
    path = rec.close()
    data, rate = sf.read(path, dtype="float32")
    assert rate == 16000 and data.size == 48000
    np.testing.assert_allclose(data[:16000], tone, atol=1 / 16000)
    meta = json.loads((tmp_path / "s1" / "session.json").read_text())
    assert meta["state"] == "finished" and meta["duration"] == 3.0


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _minutes(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


@pytest.fixture
def cli_env(tmp_path, recognizer) -> dict:
    """A data folder of its own (sessions land there) sharing the exported models of the test cache."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(Path(os.environ["MINUTES_DATA_DIR"]) / "models", target_is_directory=True)
    return {**os.environ, "MINUTES_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_sigkill_loses_at_most_a_second_and_next_start_recovers(tmp_path, data_dir, cli_env):
    """The real thing: `minutes live` killed with SIGKILL mid-meeting, then `minutes live --recover`."""
    import soundfile as sf

    from engine.audio.recorder import unfinished_sessions

    env = cli_env
    events = tmp_path / "events.jsonl"
    source = data_dir / "longform" / "en_asr_concat.wav"
    proc = subprocess.Popen(
        _minutes(
            "live", "--from-file", str(source), "--realtime", "--language", "en", "--events", str(events),
            "--no-speakers", "--no-chapters", "-q",
        ),
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while not any(e["type"] == "confirmed" for e in _events(events)):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "no confirmed words within 2 minutes"
            time.sleep(0.2)
        time.sleep(4.0)  # well into the meeting
        started = _events(events)[0]
        assert started["type"] == "started"
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    heard = killed - started["wall"]  # audio the session had been given when it died
    session = Path(started["folder"])
    found = unfinished_sessions(Path(env["MINUTES_DATA_DIR"]) / "sessions")
    assert [s.folder for s in found] == [session]
    # a new session started now tells the user about it
    p = subprocess.run(
        _minutes("live", "--input-device", "no such microphone 123"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "interrupted session" in p.stderr and "--recover" in p.stderr
    # next start: the session is found and recovered; the transcript is rebuilt from the audio
    out = subprocess.run(
        _minutes("live", "--recover", "--out", str(tmp_path / "out"), "--language", "en"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"recovered {session.name}" in out.stderr
    audio, rate = sf.read(session / "audio.wav", dtype="float32")
    lost = heard - audio.size / rate
    print(f"SIGKILL after {heard:.1f} s of audio: {lost:.2f} s lost")
    assert -0.2 <= lost <= 1.0, f"lost {lost:.2f} s"
    # every recorded sample is the source's sample (16-bit)
    original = load_audio(source)[: audio.size]
    assert np.max(np.abs(original - audio)) < 2 / 32768
    transcript = json.loads((tmp_path / "out" / f"{session.name}.json").read_text())
    assert "fellow americans" in " ".join(s["text"].lower() for s in transcript["segments"])
    assert json.loads((session / "session.json").read_text())["state"] == "recovered"
    assert unfinished_sessions(Path(env["MINUTES_DATA_DIR"]) / "sessions") == []


# -- live session ---------------------------------------------------------------------------------


class FakeTracker:
    """The speaker tracker's interface: a label per utterance, revised labels on relabel."""

    def __init__(self):
        self.calls: list[tuple[int, float, float, float]] = []

    def add(self, samples, start, end):
        self.calls.append((len(samples), start, end, float(np.abs(samples).max()) if len(samples) else 0.0))
        return "S2" if len(self.calls) % 2 else "S1"

    def relabel(self, final=False):
        return [(s, e, "S1") for _, s, e, _ in self.calls]


def test_live_session_events_speakers_and_files(recognizer, tmp_path):
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession

    tracker = FakeTracker()
    opts = LiveOptions(from_file=DEMO_AUDIO, realtime=False, folder=tmp_path / "s", chapters=False)
    session = LiveSession(recognizer, opts, tracker=tracker)
    events = []
    session.subscribe(events.append)
    session.subscribe(lambda e: 1 / 0)  # a broken subscriber never stops the session
    session.start()
    deadline = time.time() + 120
    while not session.finished_input():
        assert time.time() < deadline
        time.sleep(0.05)
    transcript = session.stop()
    types = [e.type for e in events]
    assert types[0] == "started" and types[-1] == "stopped"
    for kind in ("partial", "confirmed", "segment", "speaker", "level", "status"):
        assert kind in types, kind
    for e in events:
        d = e.to_dict()
        assert e.wall >= events[0].wall
        if e.type in ("partial", "confirmed"):
            assert {"audio_start", "audio_end", "text"} <= d.keys() and d["audio_start"] <= d["audio_end"]
    assert word_errors(JFK, transcript.text) <= 0.1, transcript.text
    # the tracker got each finished line's real audio, and its revised labels are applied
    assert tracker.calls and all(n == pytest.approx((e - s) * 16000, abs=2) for n, s, e, _ in tracker.calls)
    assert all(peak > 0.05 for *_, peak in tracker.calls)
    assert {s.speaker for s in transcript.segments} == {"S1"}
    assert [sp.id for sp in transcript.speakers] == ["S1"]
    # the last re-clustering is kept as the diarization turns (what RTTM is written from)
    assert transcript.turns and {t.speaker for t in transcript.turns} == {"S1"}
    assert transcript.turns[0].start == pytest.approx(tracker.calls[0][1], abs=1e-3)
    assert transcript.turns[-1].end == pytest.approx(tracker.calls[-1][2], abs=1e-3)
    assert transcript.audio.duration == pytest.approx(11.0, abs=0.05)
    saved = json.loads((tmp_path / "s" / "transcript.json").read_text())
    assert saved["segments"][0]["text"] == transcript.segments[0].text
    assert saved["turns"] == [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in transcript.turns]
    assert json.loads((tmp_path / "s" / "session.json").read_text())["state"] == "finished"


def test_live_final_pass_keeps_the_live_turns(recognizer, tmp_path):
    """With the live tracker labelling, the final pass keeps its speakers: segments and turns alike."""
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession
    from engine.transcript import SpeakerTurn, merge_turns

    tracker = FakeTracker()
    opts = LiveOptions(from_file=DEMO_AUDIO, realtime=False, folder=tmp_path / "s", chapters=False, final_pass=True)
    session = LiveSession(recognizer, opts, tracker=tracker)
    session.start()
    while not session.finished_input():
        time.sleep(0.05)
    transcript = session.stop()
    assert words_of(transcript.text) == words_of(JFK)  # the file engine's text
    assert transcript.turns and {t.speaker for t in transcript.turns} == {"S1"}
    live = merge_turns([SpeakerTurn(a, b, label) for a, b, label in tracker.relabel()])
    assert transcript.turns == live
    assert [sp.id for sp in transcript.speakers] == ["S1"]


def test_cancelled_final_pass_keeps_the_live_transcript(recognizer, tmp_path):
    """Cancel is not an error: a cancelled final pass ends stop() with the live transcript, saved."""
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession

    opts = LiveOptions(from_file=DEMO_AUDIO, realtime=False, folder=tmp_path / "s", speakers=False, chapters=False)
    session = LiveSession(recognizer, opts)
    events = []
    session.subscribe(events.append)
    session.start()
    while not session.finished_input():
        time.sleep(0.05)
    seen = []

    def progress(p):
        seen.append(p.stage)
        if p.stage == "transcribe":
            session.cancel_final_pass()  # the user gives up waiting

    transcript = session.stop(final_pass=True, progress=progress)
    states = [e.data.get("state") for e in events if e.type == "status"]
    assert "final_pass" in states and "final_pass_cancelled" in states
    assert "done" not in seen and events[-1].type == "stopped"
    assert word_errors(JFK, transcript.text) <= 0.1  # the live words
    saved = json.loads((tmp_path / "s" / "transcript.json").read_text())
    assert [s["text"] for s in saved["segments"]] == [s.text for s in transcript.segments]


def test_cancelled_recovery_offers_the_session_again(recognizer, tmp_path):
    import soundfile as sf

    from engine.audio.recorder import unfinished_sessions
    from engine.errors import Cancelled
    from engine.live.session import LiveSession

    folder = tmp_path / "sessions" / "20250101-120000-abcd"
    folder.mkdir(parents=True)
    sf.write(folder / "audio.wav", load_audio(DEMO_AUDIO), 16000, subtype="PCM_16")
    (folder / "session.json").write_text(json.dumps({"state": "recording", "started": time.time()}))
    assert [s.folder for s in unfinished_sessions(tmp_path / "sessions")] == [folder]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        LiveSession.recover(folder, recognizer, cancel=cancel)
    assert [s.folder for s in unfinished_sessions(tmp_path / "sessions")] == [folder]  # still to recover
    assert not (folder / "transcript.json").exists()
    transcript = LiveSession.recover(folder, recognizer)
    assert word_errors(JFK, transcript.text) <= 0.1 and unfinished_sessions(tmp_path / "sessions") == []


def test_live_session_final_pass_and_chapter_hook(recognizer, tmp_path):
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession

    class Chapters:
        def __init__(self):
            self.seen = []
            self.settled = 0
            self.chapters = []

        def add(self, segments):
            self.seen += segments
            return []

        def finish(self, duration):
            from engine.transcript import Chapter

            return [Chapter(0.0, duration, "All of it", ["jfk"])]

    hook = Chapters()
    opts = LiveOptions(from_file=DEMO_AUDIO, realtime=False, folder=tmp_path / "s", speakers=False, final_pass=True)
    session = LiveSession(recognizer, opts, chapters=hook)
    events = []
    session.subscribe(events.append)
    session.start()
    while not session.finished_input():
        time.sleep(0.05)
    transcript = session.stop()
    assert hook.seen and [c.title for c in session.chapters] == ["All of it"]
    chapter_events = [e for e in events if e.type == "chapter"]
    assert chapter_events[-1].data["chapters"][0]["title"] == "All of it"
    assert words_of(transcript.text) == words_of(JFK)  # the file engine's text
    assert all(s.words for s in transcript.segments)


# -- CLI ------------------------------------------------------------------------------------------


def test_live_cli_ctrl_c_writes_transcripts_and_events(tmp_path, cli_env):
    import soundfile as sf

    env = cli_env
    events = tmp_path / "ev.jsonl"
    # the speech twice (22 s), so Ctrl-C lands well before the end even when confirmation lags on a busy machine
    twice = tmp_path / "jfk_twice.wav"
    sf.write(twice, np.tile(load_audio(DEMO_AUDIO), 2), 16000)
    proc = subprocess.Popen(
        _minutes(
            "live", "--from-file", str(twice), "--realtime", "--language", "en", "--events", str(events),
            "--out", str(tmp_path / "out"), "--no-speakers", "-f", "json,txt",
        ),
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 120
    while not any(e["type"] == "confirmed" and "Americans" in e["text"] for e in _events(events)):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    ev = _events(events)
    assert ev[0]["type"] == "started" and isinstance(ev[0]["wall"], float)
    texts = [e for e in ev if e["type"] in ("partial", "confirmed")]
    assert texts and all({"wall", "audio_start", "audio_end", "text"} <= e.keys() for e in texts)
    assert all(e["wall"] >= ev[0]["wall"] for e in ev)
    assert "fellow Americans" in out  # printed as a line with times
    assert "->" in out.splitlines()[0]
    written = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert written == [".json", ".txt"]
    txt = next((tmp_path / "out").glob("*.txt")).read_text()
    assert "Americans" in txt
    # stopped early (Ctrl-C): less than the whole file was recorded, and it is all in the transcript JSON
    data = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert 2.0 < data["audio"]["duration"] < 20.0


def test_live_cli_bad_device_and_bad_file_are_one_line_errors(tmp_path, cli_env):
    env = cli_env
    p = subprocess.run(
        _minutes("live", "--from-file", str(tmp_path / "missing.wav")),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 2 and p.stderr.startswith("minutes: error:") and len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run(
        _minutes("live", "--input-device", "no such microphone 123"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 2 and "minutes: error:" in p.stderr
    assert "Traceback" not in p.stderr


def _label_of_people(segments: dict[int, tuple[float, float, str | None]], ref) -> dict[str, str]:
    """Each reference person's name as the user sees it: the label shown on most of their speech."""
    from pyannote.core import Segment

    talk: dict[str, dict[str, float]] = {}
    for a, b, label in segments.values():
        if label is None:
            continue
        crop = ref.crop(Segment(a, b), mode="intersection")
        for who in crop.labels():
            talk.setdefault(who, {}).setdefault(label, 0.0)
            talk[who][label] += crop.label_duration(who)
    return {who: max(v, key=v.get) for who, v in talk.items() if v}


@pytest.mark.slow
def test_live_speakers_at_real_time_pace_never_swap_and_end_close_to_offline(tmp_path, data_dir, cli_env):
    """A real two-person call through `minutes live --realtime`: replay every label the user saw."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from bench.diarization import load_reference

    folder = data_dir / "diarization" / "pyannote_sample"
    ref = load_reference(folder / "sample.rttm")
    events_path, out = tmp_path / "events.jsonl", tmp_path / "out"
    p = subprocess.run(
        _minutes(
            "live", "--from-file", str(folder / "sample.wav"), "--realtime", "--language", "en",
            "--events", str(events_path), "--out", str(out), "-f", "json", "--no-chapters", "-q",
        ),
        cwd=REPO, env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    shown: dict[int, tuple[float, float, str | None]] = {}
    names: dict[str, str] = {}  # reference person -> the label they are shown under
    labelled_within: list[float] = []
    ended: dict[int, float] = {}
    for e in _events(events_path):
        if e["type"] == "segment":
            shown[e["segment"]] = (e["audio_start"], e["audio_end"], None)
            ended[e["segment"]] = e["wall"]
        elif e["type"] == "speaker":
            for i, label in e.get("updates") or [[e["segment"], e["speaker"]]]:
                a, b, _ = shown[i]
                shown[i] = (a, b, label)
                if i in ended:
                    labelled_within.append(e["wall"] - ended.pop(i))
            now = _label_of_people(shown, ref)
            # never swap two people's names: two people shown under different labels may not trade them
            for x in now:
                for y in now:
                    if x < y and x in names and y in names and names[x] != names[y]:
                        assert (now[x], now[y]) != (names[y], names[x]), f"{x} and {y} swapped labels"
            names.update(now)
    assert labelled_within and max(labelled_within) < 1.0, labelled_within  # each line labelled at once
    transcript = json.loads(next(out.glob("*.json")).read_text())
    live = Annotation()
    for s in transcript["segments"]:
        live[Segment(s["start"], s["end"])] = s["speaker"]
    assert len(live.labels()) == 2 and [s["id"] for s in transcript["speakers"]] == sorted(live.labels())
    offline = Annotation()  # what a file job gets: the overlap-aware pipeline, second voices included
    from engine.speakers.overlap_diarize import OverlapDiarizer

    result = OverlapDiarizer(threads=2)(load_audio(folder / "sample.wav"))
    for t in result.turns + result.overlaps:
        offline[Segment(t.start, t.end), len(offline)] = t.speaker
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    der_live, der_offline = metric(ref, live), metric(ref, offline)
    saved = Annotation()  # the saved turns (what its RTTM is): the file job's, second voices included
    for t in transcript["turns"]:
        saved[Segment(t["start"], t["end"]), len(saved)] = t["speaker"]
    der_saved = metric(ref, saved)
    print(f"live DER {der_live:.3f} (lines), {der_saved:.3f} (turns), offline {der_offline:.3f}")
    assert der_live <= der_offline + 0.05, (der_live, der_offline)
    assert der_saved <= der_offline + 0.01, (der_saved, der_offline)
