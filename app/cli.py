"""`minutes` command line: transcribe files to JSON/TXT/SRT/VTT.

Bad input (a missing file, something that is not audio, an empty file, a corrupt model)
prints one line saying what is wrong and exits with status 2; the other files still run.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.common import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_OK, OVERWRITE_HINT, fail, formats_or_fail, output_dir, say
from engine.errors import Cancelled, MinutesError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minutes", description="Meeting transcription on your own machine.")
    from app.bundle import __version__, variant

    p.add_argument("--version", action="version", version=f"minutes {__version__} ({variant()})")
    sub = p.add_subparsers(dest="command")
    t = sub.add_parser("transcribe", help="transcribe audio or video files")
    t.add_argument("files", nargs="+", metavar="FILE", help="audio or video files")
    t.add_argument("-o", "--output-dir", metavar="DIR", help="where to write results (default: beside each file)")
    t.add_argument("-f", "--formats", default="json,txt,srt", help="comma-separated: json,txt,srt,vtt,rttm,docx")
    t.add_argument("--language", default=None, help="language code such as en or zh (default: detect)")
    t.add_argument("--task", choices=["transcribe", "translate"], default="transcribe")
    t.add_argument("--model", default=None, help="'base' (packaged), a model folder, an OpenAI .pt, or a hub id")
    t.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    t.add_argument("--precision", choices=["auto", "fp32", "fp16", "int8"], default="auto")
    t.add_argument("--beam-size", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=8, help="speech windows decoded together")
    t.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    t.add_argument(
        "--chinese",
        choices=["simplified", "traditional", "asis"],
        default="simplified",
        help="script for Chinese output",
    )
    t.add_argument("--initial-prompt", default=None, help="text that sets style and vocabulary")
    t.add_argument("--hotwords", default=None, help="names and terms to favour, e.g. 'Kubernetes, Anya'")
    t.add_argument("--keywords", default=None, help="the agenda, for chapters: 'budget; hiring; roadmap'")
    t.add_argument("--no-chapters", action="store_true", help="do not divide the transcript into chapters")
    t.add_argument("--no-vad", action="store_true", help="decode every 30 s instead of only speech")
    t.add_argument("--no-word-timestamps", action="store_true")
    sp = t.add_argument_group("speakers")
    sp.add_argument("--speakers", type=int, default=None, metavar="N", help="exactly N speakers (default: automatic)")
    sp.add_argument("--min-speakers", type=int, default=1, metavar="A", help="at least A speakers (default 1)")
    sp.add_argument("--max-speakers", type=int, default=8, metavar="B", help="at most B speakers (default 8)")
    sp.add_argument("--no-diarize", action="store_true", help="do not find speakers")
    sp.add_argument("--no-voice-names", action="store_true", help="do not name speakers from enrolled voices")
    t.add_argument(
        "--overwrite", action="store_true", help="replace existing results even if edited (default: keep them)"
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    from app.cli_voices import add_parser as add_voices_parser

    add_voices_parser(sub)
    from app.export_cmd import add_parser as add_export_parser

    add_export_parser(sub)
    from app.live_cmd import add_parser as add_live_parser

    add_live_parser(sub)
    from app.cli_data import add_parser as add_data_parser

    add_data_parser(sub)
    from app.cli_training import add_parser as add_training_parser

    add_training_parser(sub)
    from app.cli_models import add_parser as add_models_parser

    add_models_parser(sub)
    return p


class _Bar:
    """A progress bar on stderr (tqdm) that the engine's callbacks move."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.label = ""

    def update(self, label: str, fraction: float, total: float = 100.0, unit: str = "%", note: str = "") -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if self.bar is None or label != self.label:
            self.close()
            self.label = label
            fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} " + unit + " [{elapsed}<{remaining}{postfix}]"
            self.bar = tqdm(total=total, desc=label, file=sys.stderr, bar_format=fmt, leave=True)
        self.bar.n = min(total, fraction * total)
        if note:
            self.bar.set_postfix_str(note, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _show_progress(bar: _Bar, p, label: str, duration: float) -> None:
    if p.stage == "transcribe":
        bar.update(label, p.fraction, duration, "s")
    elif p.stage == "speakers":
        bar.update(f"{label}: speakers", p.fraction, note=p.message if "skipped" in p.message else "")


ASR_FLAGS = ("language", "task", "beam_size", "batch_size", "initial_prompt", "hotwords", "chinese")


def transcribe_command(args: argparse.Namespace) -> int:
    from engine.audio.decode import probe
    from engine.export.naming import output_names
    from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
    from engine.jobs import FileJob, JobProgress, run_file_job
    from engine.recognizer import Recognizer

    formats = formats_or_fail(args.formats)
    if formats is None:
        return EXIT_BAD_INPUT
    if not args.no_diarize:
        from engine.speakers.diarize import DiarizationOptions

        try:
            DiarizationOptions(args.speakers, args.min_speakers, args.max_speakers).check()
        except MinutesError as e:
            fail(str(e))
            return EXIT_BAD_INPUT
    try:
        out_dir = output_dir(args.output_dir)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT

    status = EXIT_OK
    inputs: list[tuple[Path, float]] = []
    for name in args.files:  # check every file before the model loads: fail fast, keep the good ones
        try:
            inputs.append((Path(name), probe(name).duration))
        except MinutesError as e:
            fail(str(e))
            status = EXIT_BAD_INPUT
    if not inputs:
        return status
    # talk.mp4 and talk.m4a must not both write talk.json: they are named talk.mp4.json, talk.m4a.json
    folders = [out_dir or path.parent for path, _ in inputs]
    names = output_names([path for path, _ in inputs], folders)
    renamed = sorted({path for (path, _), name in zip(inputs, names) if name == path.name != path.stem})
    if renamed:
        print(
            f"minutes: {', '.join(str(p) for p in renamed)}: same name but for the extension, so each result "
            f"is named by the full file name ('{renamed[0].name}.{formats[0]}', ...).",
            file=sys.stderr,
        )
    taken: set[Path] = set()

    bar = _Bar(args.quiet)
    try:
        engine = Recognizer(
            args.model,
            args.device,
            args.precision,
            args.threads,
            progress=lambda p: bar.update("Preparing model (first use only)", p.fraction, note=p.message),
        )
    except MinutesError as e:
        bar.close()
        fail(str(e))
        return EXIT_BAD_INPUT
    bar.close()
    print(f"minutes: model {engine.model_name} ({engine.precision}) on {engine.device.upper()}", file=sys.stderr)

    options = TranscribeOptions(
        asr=AsrOptions(
            **{k: getattr(args, k) for k in ASR_FLAGS},  # flags named as the options
            word_timestamps=not args.no_word_timestamps,
            vad=not args.no_vad,
        ),
        speakers=SpeakerOptions(
            enabled=not args.no_diarize,
            num_speakers=args.speakers,
            min_speakers=args.min_speakers,
            max_speakers=args.max_speakers,
            recognize_voices=not args.no_voice_names,
        ),
        chapters=ChapterOptions(enabled=not args.no_chapters, keywords=args.keywords),
    )
    for i, ((path, duration), folder, name) in enumerate(zip(inputs, folders, names)):
        label = path.name if len(path.name) <= 30 else path.name[:27] + "..."
        job = FileJob(
            str(i), path, options, tuple(formats), folder, args.overwrite, name=name, taken=tuple(taken),
            overwrite_hint=OVERWRITE_HINT,
        )  # fmt: skip

        def show(event, d=duration, lb=label) -> None:
            if isinstance(event, JobProgress) and event.stage in ("transcribe", "speakers"):
                _show_progress(bar, event, lb, d)
            elif isinstance(event, JobProgress) and event.stage == "writing":
                bar.close()  # the bar ends before any "kept ..." line

        try:
            result = run_file_job(engine, job, show, pulse=None)
        except KeyboardInterrupt:
            bar.close()
            fail("cancelled.")
            return EXIT_CANCELLED
        bar.close()
        taken.update(result.written)
        for message in result.messages:
            say(message)
        if result.status != "done":
            fail(result.error or "cancelled.")
            status = EXIT_BAD_INPUT
            continue
        print(
            f"minutes: {path.name}: {duration:.1f} s of audio in {result.seconds:.1f} s "
            f"(language {result.transcript.language}) -> {', '.join(str(w) for w in result.written)}",
            file=sys.stderr,
        )
    return status


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="minutes: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except (KeyboardInterrupt, Cancelled):  # Ctrl-C anywhere (loading a model, recovering a session)
        fail("cancelled.")
        return EXIT_CANCELLED


# command -> (module, function): each command's module is imported only when it runs
COMMANDS = {
    "export": ("app.export_cmd", "export_command"),
    "live": ("app.live_cmd", "live_command"),
    "devices": ("app.live_cmd", "devices_command"),
    "voices": ("app.cli_voices", "voices_command"),
    "data": ("app.cli_data", "data_command"),
    "train": ("app.cli_training", "train_command"),
    "evaluate": ("app.cli_training", "evaluate_command"),
    "models": ("app.cli_models", "models_command"),
}


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "transcribe":
        return transcribe_command(args)
    if args.command in COMMANDS:
        import importlib

        module, function = COMMANDS[args.command]
        return getattr(importlib.import_module(module), function)(args)
    parser.print_help()
    return EXIT_OK if args.command is None else EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
