"""Pausing a live session, typed live events (picklable), and the process-wide settings the live
path must leave alone (BLAS threads, the root logger)."""

from __future__ import annotations

import json
import logging
import pickle
import time

import pytest

from resources import DEMO_AUDIO

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def words_of(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()


def word_errors(ref: str, hyp: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words_of(ref)), " ".join(words_of(hyp)))


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _session(recognizer, folder, **options):
    from engine.asr.streaming import StreamingOptions
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession

    opts = LiveOptions(from_file=DEMO_AUDIO, folder=folder, speakers=False, chapters=False, **options)
    session = LiveSession(recognizer, opts, StreamingOptions(language="en"))
    events = []
    session.subscribe(events.append)
    return session, events


def _states(events) -> list[str]:
    return [e.payload.state for e in events if e.type == "status"]


def test_pause_and_resume_a_file_fed_session(recognizer, tmp_path):
    """Real time, paused ~2 s at ~4 s of audio: the recording lacks the pause, the file goes on
    where it was, session.json has the interval, and audio maps back to wall time."""
    import soundfile as sf

    from engine.live.events import EventType, SessionState
    from engine.live.wall_time import audio_to_wall

    session, events = _session(recognizer, tmp_path / "s", realtime=True)
    session.start()
    _wait(lambda: session.audio_seconds >= 4.0, 30, "4 s of audio")
    session.pause()
    session.pause()  # idempotent
    assert session.paused
    at_pause = session.audio_seconds
    paused_wall = time.time()
    time.sleep(2.0)
    assert session.audio_seconds == at_pause  # elapsed (recorded) time does not grow while paused
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["state"] == "recording" and meta["pauses"][0]["wall_resumed"] is None
    # the open words were confirmed at the pause: a segment ends at or before the pause point
    _wait(lambda: any(e.type == "segment" for e in events), 10, "a segment at the pause")
    session.resume()
    session.resume()
    assert not session.paused
    _wait(session.finished_input, 60, "the end of the file")
    transcript = session.stop()

    audio, rate = sf.read(tmp_path / "s" / "audio.wav", dtype="float32")
    assert abs(audio.size / rate - 11.0) <= 0.3  # the whole file, nothing of the pause
    assert transcript.audio.duration == pytest.approx(audio.size / rate, abs=1e-3)
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["state"] == "finished"
    [pause] = meta["pauses"]
    assert pause["audio"] == pytest.approx(at_pause, abs=1e-3)
    assert pause["wall_paused"] == pytest.approx(paused_wall, abs=0.2)
    assert 1.9 <= pause["wall_resumed"] - pause["wall_paused"] <= 2.5

    states = _states(events)
    assert states.count(SessionState.PAUSED) == 1 and states.count("recording") == 1  # str enum
    assert states.index("paused") < states.index("recording")
    assert all(isinstance(e.type, EventType) for e in events)
    # words spoken after the resume are in the transcript
    after = [w.word for s in transcript.segments for w in s.words if w.start > at_pause + 0.5]
    assert {"you", "do", "country"} <= set(words_of(" ".join(after))), transcript.text
    assert word_errors(JFK, transcript.text) <= 0.2, transcript.text  # a pause mid-sentence costs little
    # level events were captured at wall = audio_to_wall(audio), before and after the pause
    levels = [e for e in events if e.type == "level"]
    assert any(e.audio_end < at_pause for e in levels) and any(e.audio_end > at_pause + 1 for e in levels)
    for e in levels:
        assert audio_to_wall(meta, e.audio_end) == pytest.approx(e.wall, abs=0.3), e
    assert audio_to_wall(tmp_path / "s", 1.0) == audio_to_wall(meta, 1.0)  # a folder works too
    assert audio_to_wall(meta, at_pause + 1.0) - audio_to_wall(meta, at_pause - 1.0) == pytest.approx(
        2.0 + pause["wall_resumed"] - pause["wall_paused"], abs=0.1
    )


def test_stop_while_paused_finishes_and_saves(recognizer, tmp_path):
    import soundfile as sf

    session, events = _session(recognizer, tmp_path / "s", realtime=True)
    session.start()
    _wait(lambda: session.audio_seconds >= 3.0, 30, "3 s of audio")
    session.pause()
    at_pause = session.audio_seconds
    time.sleep(0.3)
    transcript = session.stop()
    session.resume()  # after stop: nothing happens
    assert events[-1].type == "stopped"
    audio, rate = sf.read(tmp_path / "s" / "audio.wav", dtype="float32")
    assert audio.size / rate == pytest.approx(at_pause, abs=1e-3)
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["state"] == "finished"
    [pause] = meta["pauses"]
    assert pause["wall_resumed"] == pytest.approx(meta["stopped"], abs=1e-6)  # the pause ends with the session
    assert "fellow" in words_of(transcript.text)
    saved = json.loads((tmp_path / "s" / "transcript.json").read_text())
    assert [s["text"] for s in saved["segments"]] == [s.text for s in transcript.segments]


def test_session_crashed_while_paused_recovers(recognizer, tmp_path):
    """An open pause survives a crash and recovery (the audio is transcribed whole); audio maps to wall time."""
    from engine.audio.decode import load_audio
    from engine.audio.recorder import Recorder, unfinished_sessions
    from engine.live.session import LiveSession
    from engine.live.wall_time import audio_to_wall

    audio = load_audio(DEMO_AUDIO)
    rec = Recorder(tmp_path / "s", {"input": "test"})
    rec.write(audio[:64000])
    rec.pause(wall=1000.0)
    rec.pause(wall=1001.0)  # idempotent: one open pause
    assert rec.paused
    rec.resume(wall=1005.0)
    rec.write(audio[64000:])
    rec.pause(wall=1010.0)
    rec._f.close()  # the process dies while paused: its lock goes with it
    rec._lockfile.close()
    assert [s.folder for s in unfinished_sessions(tmp_path)] == [tmp_path / "s"]
    transcript = LiveSession.recover(tmp_path / "s", recognizer)
    assert word_errors(JFK, transcript.text) <= 0.1, transcript.text
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["state"] == "recovered" and meta["duration"] == 11.0
    assert meta["pauses"] == [
        {"audio": 4.0, "wall_paused": 1000.0, "wall_resumed": 1005.0},
        {"audio": 11.0, "wall_paused": 1010.0, "wall_resumed": None},
    ]
    meta["started"] = 996.0
    assert audio_to_wall(meta, 0.5) == 996.5
    assert audio_to_wall(meta, 4.0) == 1000.0  # the pause's own mark: the moment it paused
    assert audio_to_wall(meta, 4.25) == 1005.25
    assert audio_to_wall(meta, 11.0) == 1012.0
    assert audio_to_wall({"started": 5.0}, 2.0) == 7.0  # never paused


def test_file_source_pause_holds_its_place():
    import numpy as np

    from engine.live.file_source import FileSource

    got = []
    src = FileSource(DEMO_AUDIO, got.append, realtime=False)
    src.pause()
    src.start()
    time.sleep(0.3)
    assert got == []  # paused before it began: nothing delivered
    src.resume()
    _wait(lambda: sum(b.size for b in got) >= 16000, 10, "a second of audio")
    src.pause()
    n = sum(b.size for b in got)
    time.sleep(0.2)
    assert sum(b.size for b in got) == n  # nothing during the pause, not even the block in flight
    src.resume()
    _wait(src.done.is_set, 10, "the end")
    src.stop()
    from engine.audio.decode import load_audio

    np.testing.assert_array_equal(np.concatenate(got), load_audio(DEMO_AUDIO))  # every sample, once, in order


# -- typed events -----------------------------------------------------------------------------------


def _every_event():
    from engine.live.events import (
        ChapterInfo,
        ChapterList,
        ConfirmedText,
        Level,
        LiveEvent,
        PartialText,
        SegmentDone,
        SessionState,
        SpeakerLabel,
        SpeakerLabels,
        Started,
        Status,
        Stopped,
    )

    words = ((0.5, 0.9, " so"), (0.9, 1.2, " my"))
    return [
        LiveEvent.of(Started("/tmp/s"), wall=100.0),
        LiveEvent.of(PartialText(0, words), 100.1, 0.5, 1.2, " so my"),
        LiveEvent.of(ConfirmedText(0, words), 100.2, 0.5, 1.2, " so my"),
        LiveEvent.of(SegmentDone(0, 0.5, 1.2, "So my", None), 100.3, 0.5, 1.2, "So my"),
        LiveEvent.of(SpeakerLabels((SpeakerLabel(0, "S1", "Speaker 1"),)), 100.4, 0.5, 1.2),
        LiveEvent.of(SpeakerLabels((SpeakerLabel(0, "S2", "Speaker 2"), SpeakerLabel(3, "S1", "Speaker 1"))), 100.5),
        LiveEvent.of(ChapterList((ChapterInfo(0.0, 9.0, "Budget", ("budget", "cost")),), 0), 100.6),
        LiveEvent.of(Level(-20.0, 0.1, 0.3, {"microphone": -20.0, "system": -35.0}), 100.7, audio_end=1.2),
        LiveEvent.of(Status(SessionState.PAUSED, "Paused."), 100.8, audio_end=1.2),
        LiveEvent.of(Status("something_new", "A state this version does not know."), 100.9),
        LiveEvent.of(Stopped("/tmp/s"), 101.0, audio_end=1.2),
    ]


def test_every_event_type_pickles_and_keeps_its_dict_form():
    from engine.live.events import EVENT_TYPES, EventType

    events = _every_event()
    assert {e.type for e in events} == set(EventType) and [t.value for t in EventType] == list(EVENT_TYPES)
    for e in events:
        back = pickle.loads(pickle.dumps(e))
        assert back == e and back.type is e.type and type(back.payload) is type(e.payload)
        assert back.to_dict() == e.to_dict()
        json.dumps(e.to_dict())  # the event log's line


def test_event_dicts_are_the_log_format():
    d = [e.to_dict() for e in _every_event()]
    assert d[0] == {"type": "started", "wall": 100.0, "folder": "/tmp/s"}
    assert d[1] == {
        "type": "partial", "wall": 100.1, "audio_start": 0.5, "audio_end": 1.2, "text": " so my",
        "segment": 0, "words": [[0.5, 0.9, " so"], [0.9, 1.2, " my"]],
    }  # fmt: skip
    assert d[3]["segment"] == 0 and d[3]["speaker"] is None and d[3]["text"] == "So my"
    # one shape for speakers; a single label keeps the older keys as well
    assert d[4]["updates"] == [[0, "S1"]] and (d[4]["segment"], d[4]["speaker"]) == (0, "S1")
    assert d[5]["updates"] == [[0, "S2"], [3, "S1"]] and "segment" not in d[5]
    assert d[6]["chapters"] == [{"start": 0.0, "end": 9.0, "title": "Budget", "keywords": ["budget", "cost"]}]
    assert d[7]["dbfs"] == -20.0 and d[7]["sources"] == {"microphone": -20.0, "system": -35.0}
    assert d[8]["state"] == "paused" and d[9]["state"] == "something_new"
    events = _every_event()
    assert events[8].data == {"state": "paused", "message": "Paused."}  # data: the dict as before
    assert events[8].type == "status" and events[8].payload.state == "paused"


# -- no process-wide side effects ---------------------------------------------------------------------


def test_blas_limit_is_scoped_and_counted():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from engine.live.session import _one_blas_thread

    def blas():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    def openmp():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]

    before, omp = blas(), openmp()
    with _one_blas_thread("cuda"):
        assert blas() == before  # on a GPU nothing is limited
    a, b = _one_blas_thread(), _one_blas_thread()  # two sessions' re-clusterings overlapping
    a.__enter__()
    b.__enter__()
    assert all(n == 1 for n in blas()) and openmp() == omp  # BLAS only
    a.__exit__(None, None, None)  # the first one out does not restore while the other runs
    assert all(n == 1 for n in blas())
    b.__exit__(None, None, None)
    assert blas() == before


def test_quantizer_quieting_touches_nothing_else(caplog):
    import threading

    from engine.asr.onnx_export import _quiet_quantizer

    root = logging.getLogger()
    level, handlers, filters = root.level, list(root.handlers), list(root.filters)

    def record(path: str, level=logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord("root", level, path, 1, "note", None, None)

    quant = "/x/site-packages/onnxruntime/quantization/onnx_quantizer.py".replace("/", __import__("os").sep)
    with _quiet_quantizer():
        assert root.level == level
        root.handle(record(quant))  # the quantizer's advice: dropped
        root.handle(record(quant, logging.ERROR))  # its errors: kept
        root.handle(record("/x/engine/asr/onnx_export.py"))  # anyone else's: kept
        other = threading.Thread(target=lambda: root.handle(record(quant)))
        other.start()  # another thread's record from the same file: kept
        other.join()
        logging.getLogger("minutes.test").warning("named logger")
    assert len(caplog.records) == 4 and [r.getMessage() for r in caplog.records][-1] == "named logger"
    assert (root.level, root.handlers, root.filters) == (level, handlers, filters)
