"""`minutes live` (transcribe a meeting as it happens) and `minutes devices` (list inputs).

`minutes live` prints each finished line with its times on stdout, shows the words not yet
confirmed on the status line (stderr, when it is a terminal), and on Ctrl-C (or SIGTERM)
stops cleanly: pending words are confirmed, the recording is closed and the transcript files
are written. ``--events PATH`` logs every event as a JSON line, so latency can be measured
from outside; ``--from-file F --realtime`` feeds a file through the same path. On POSIX,
SIGUSR1 pauses the session and the next one resumes it (``kill -USR1 <pid>``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from app.common import EXIT_BAD_INPUT, EXIT_OK, fail, formats_or_fail
from engine.errors import MinutesError


def add_parser(sub: argparse._SubParsersAction) -> None:
    lv = sub.add_parser(
        "live",
        help="transcribe a meeting live from a microphone or system audio",
        description="Transcribe live. Ctrl-C stops and writes the transcript files.",
    )
    lv.add_argument("--input-device", metavar="NAME", default=None, help="input name, number or part of a name")
    lv.add_argument(
        "--system-device", metavar="NAME", default=None, help="also record system audio (e.g. a .monitor), mixed in"
    )
    lv.add_argument("--out", metavar="DIR", default=None, help="where to write transcripts (default: session folder)")
    lv.add_argument("--language", default=None, help="language code such as en or zh (default: detect)")
    lv.add_argument("--events", metavar="PATH", default=None, help="write every event as one JSON line to PATH")
    lv.add_argument("--from-file", metavar="FILE", default=None, help="feed an audio file instead of a device")
    lv.add_argument("--realtime", action="store_true", help="with --from-file: at real-time pace")
    lv.add_argument("--loops", type=int, default=1, help="with --from-file: play it N times (long runs)")
    lv.add_argument("-f", "--formats", default="json,txt,srt", help="comma-separated: json,txt,srt,vtt,rttm,docx")
    lv.add_argument("--final-pass", action="store_true", help="at stop, re-transcribe the recording at file quality")
    lv.add_argument("--no-speakers", action="store_true", help="no live speaker labels")
    lv.add_argument("--no-chapters", action="store_true", help="no live chapters")
    lv.add_argument("--keywords", default=None, help="the agenda, for chapters: 'budget; hiring; roadmap'")
    lv.add_argument("--initial-prompt", default=None, help="text that sets style and vocabulary")
    lv.add_argument("--model", default=None, help="'base' (packaged), a model folder, an OpenAI .pt, or a hub id")
    lv.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    lv.add_argument("--precision", choices=["auto", "fp32", "fp16", "int8"], default="auto")
    lv.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    lv.add_argument("--chunk-seconds", type=float, default=None, help="new audio between hypotheses (default 0.3)")
    lv.add_argument(
        "--encoder-seconds", type=float, default=None, help="shortest encoder input in seconds (30: no trimming)"
    )
    lv.add_argument(
        "--confirm-after",
        type=float,
        default=None,
        metavar="S",
        help="confirm a word S seconds after it ends even without agreement (default 1.6; 0: off)",
    )
    lv.add_argument("--session-dir", metavar="DIR", default=None, help="session folder (default: a new one)")
    lv.add_argument(
        "--recover",
        nargs="?",
        const="all",
        metavar="SESSION",
        help="recover interrupted sessions (all, or one folder): keep their audio, rebuild their transcripts",
    )
    lv.add_argument("-q", "--quiet", action="store_true", help="no status line")
    sub.add_parser("devices", help="list audio inputs (microphones, system audio)")


def _clock(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    h, m = divmod(int(m), 60)
    return f"{h:02d}:{m:02d}:{s:04.1f}" if h else f"{m:02d}:{s:04.1f}"


def devices_command(args: argparse.Namespace) -> int:
    from engine.audio.capture import list_devices

    try:
        devices = list_devices()
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    if not devices:
        print(
            "No audio inputs found (plug in a microphone; on Linux check that PulseAudio or PipeWire is running).",
            file=sys.stderr,
        )
        return EXIT_OK
    print("Inputs (use the number or a part of the name with `minutes live --input-device`):")
    for d in devices:
        print(d.describe())
    return EXIT_OK


class _Printer:
    """Finished lines on stdout; the open line and partial words on the status line."""

    def __init__(self, quiet: bool):
        self.status = not quiet and sys.stderr.isatty()
        self.confirmed = ""
        self.width = shutil.get_terminal_size((100, 20)).columns - 1

    def __call__(self, e) -> None:
        if e.type == "segment":
            self._clear()
            print(f"[{_clock(e.audio_start)} -> {_clock(e.audio_end)}] {e.text}", flush=True)
            self.confirmed = ""
        elif e.type == "confirmed":
            self.confirmed = (self.confirmed + " " + e.text).strip()
        elif e.type == "partial" and self.status:
            line = f"{self.confirmed} \033[2m{e.text}\033[0m".strip()
            tail = line[-self.width :] if len(self.confirmed) + len(e.text or "") + 1 > self.width else line
            sys.stderr.write("\r\033[K" + tail)
            sys.stderr.flush()
        elif e.type == "status":
            self._clear()
            print(f"minutes: {e.payload.message}", file=sys.stderr, flush=True)

    def _clear(self) -> None:
        if self.status:
            sys.stderr.write("\r\033[K")


def _load_transcriber(args: argparse.Namespace):
    from engine.recognizer import Recognizer

    engine = Recognizer(args.model, args.device, args.precision, args.threads)
    print(f"minutes: model {engine.model_name} ({engine.precision}) on {engine.device.upper()}", file=sys.stderr)
    return engine


def _write(transcript, formats: list[str], folder: Path, stem: str) -> list[Path]:
    from engine.export import write

    folder.mkdir(parents=True, exist_ok=True)
    return [write(transcript, fmt, folder / f"{stem}.{fmt}") for fmt in formats]


def _recover(args: argparse.Namespace, formats: list[str]) -> int:
    from engine.audio.recorder import SessionInfo, unfinished_sessions
    from engine.file_job import AsrOptions, TranscribeOptions
    from engine.live.session import LiveSession

    if args.recover == "all":
        sessions = unfinished_sessions()
    else:
        folder = Path(args.recover)
        sessions = [SessionInfo(folder, {}, 0.0)]
    if not sessions:
        print("minutes: no interrupted sessions to recover.", file=sys.stderr)
        return EXIT_OK
    engine = _load_transcriber(args)
    status = EXIT_OK
    for s in sessions:
        try:
            transcript = LiveSession.recover(
                s.folder, engine, TranscribeOptions(asr=AsrOptions(language=args.language))
            )
            out = Path(args.out) if args.out else s.folder
            written = _write(transcript, formats, out, s.folder.name)
        except MinutesError as e:
            fail(str(e))
            status = EXIT_BAD_INPUT
            continue
        print(
            f"minutes: recovered {s.folder.name}: {transcript.audio.duration:.1f} s of audio -> "
            f"{', '.join(str(w) for w in written)}",
            file=sys.stderr,
        )
    return status


def live_command(args: argparse.Namespace) -> int:
    from engine.asr.streaming import StreamingOptions
    from engine.audio.recorder import unfinished_sessions
    from engine.live.event_log import EventLog
    from engine.live.options import LiveOptions
    from engine.live.session import LiveSession

    formats = formats_or_fail(args.formats)
    if formats is None:
        return EXIT_BAD_INPUT
    if args.recover:
        return _recover(args, formats)
    if args.realtime and not args.from_file:
        fail("--realtime goes with --from-file.")
        return EXIT_BAD_INPUT
    for s in unfinished_sessions():
        print(
            f"minutes: an interrupted session from {s.started} ({s.seconds:.0f} s of audio) is in '{s.folder}': "
            "`minutes live --recover` keeps its audio and rebuilds its transcript.",
            file=sys.stderr,
        )
    try:  # check the input before the model loads: fail fast
        if args.from_file:
            from engine.audio.decode import probe

            probe(args.from_file)
        else:
            from engine.audio.capture import find_device

            find_device(args.input_device)
            if args.system_device:
                find_device(args.system_device)
        engine = _load_transcriber(args)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT

    tuning = {
        "chunk_seconds": args.chunk_seconds or None,
        "encoder_seconds": args.encoder_seconds or None,
        "confirm_after_seconds": args.confirm_after,
    }
    streaming = StreamingOptions(
        language=args.language,
        initial_prompt=args.initial_prompt,
        **{k: v for k, v in tuning.items() if v is not None},  # the defaults where not given
    )
    options = LiveOptions(
        input_device=args.input_device,
        system_device=args.system_device,
        from_file=args.from_file,
        realtime=args.realtime,
        loops=args.loops,
        folder=args.session_dir,
        speakers=not args.no_speakers,
        chapters=not args.no_chapters,
        keywords=args.keywords,
        final_pass=args.final_pass,
    )
    log = None
    toggle = previous_toggle = None
    try:
        session = LiveSession(engine, options, streaming)
        if args.events:
            log = EventLog(args.events)
            session.subscribe(log)
        session.subscribe(_Printer(args.quiet))
        previous = signal.signal(signal.SIGTERM, _interrupt)
        toggle = getattr(signal, "SIGUSR1", None)  # POSIX: `kill -USR1 <pid>` pauses, again resumes
        if toggle is not None:
            previous_toggle = signal.signal(toggle, lambda signum, frame: _toggle_pause(session))
        session.start()
    except MinutesError as e:
        fail(str(e))
        if toggle is not None:
            signal.signal(toggle, previous_toggle)
        if log:
            log.close()
        return EXIT_BAD_INPUT
    print(f"minutes: recording to '{session.folder}'. Press Ctrl-C to stop.", file=sys.stderr)
    try:
        while not session.finished_input():
            time.sleep(0.1)
    except KeyboardInterrupt:
        print("\nminutes: stopping...", file=sys.stderr)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not lose the transcript
        transcript = session.stop()
        out = Path(args.out) if args.out else session.folder
        written = _write(transcript, formats, out, session.folder.name)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if toggle is not None:
            signal.signal(toggle, previous_toggle)
        if log:
            log.close()
    stats = session.recognizer.stats
    print(
        f"minutes: {transcript.audio.duration:.1f} s recorded, {len(transcript.segments)} lines "
        f"(language {transcript.language}) -> {', '.join(str(w) for w in written)}",
        file=sys.stderr,
    )
    if args.events:
        summary = {"type": "summary", "wall": time.time(), **{k: round(v, 3) for k, v in stats.items()}}
        with open(args.events, "a", encoding="utf-8") as f:
            f.write(json.dumps(summary) + "\n")
    return EXIT_OK


def _toggle_pause(session) -> None:
    # A signal handler runs in the main thread, which only sleeps here: it holds none of the
    # session's locks. The work is done in a thread all the same, so the handler returns at once.
    import threading

    threading.Thread(target=session.resume if session.paused else session.pause, daemon=True).start()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
