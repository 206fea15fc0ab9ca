"""`minutes export`: write an (edited) transcript JSON out again as Word, subtitles or text,
without transcribing the audio again.

Chapters in the JSON are kept as they are (the user may have renamed them); ``--keywords``
or ``--auto-chapters`` find them anew from the text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.common import EXIT_BAD_INPUT, EXIT_OK, OVERWRITE_HINT, fail, output_dir, parse_formats, say
from engine.errors import MinutesError


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "export",
        help="re-export a transcript JSON (e.g. after editing it) to docx, srt, vtt, txt, json or rttm",
        description="Write a Minutes transcript JSON out again in other formats, without re-transcribing.",
    )
    e.add_argument("transcripts", nargs="+", metavar="TRANSCRIPT.json", help="transcripts written by Minutes")
    e.add_argument("-f", "--formats", default="docx", help="comma-separated: docx,srt,vtt,txt,json,rttm")
    e.add_argument("-o", "--output-dir", metavar="DIR", help="where to write (default: beside each transcript)")
    e.add_argument("--keywords", default=None, help="find chapters anew from an agenda: 'budget; hiring; roadmap'")
    e.add_argument("--auto-chapters", action="store_true", help="find chapters anew without an agenda")
    e.add_argument("--no-chapters", action="store_true", help="leave chapters out")
    e.add_argument("--no-times", action="store_true", help="docx/txt: no timestamps")
    e.add_argument("--no-speakers", action="store_true", help="docx: no speaker names")
    e.add_argument("--title", default=None, help="docx: document title (default: the recording's name)")
    e.add_argument(
        "--overwrite", action="store_true", help="replace existing files even if edited (default: keep them)"
    )


def format_options(fmt: str, args: argparse.Namespace) -> dict:
    if fmt == "docx":
        return {"times": not args.no_times, "speakers": not args.no_speakers, "title": args.title}
    if fmt == "txt":
        return {"timestamps": not args.no_times}
    return {}


def export_command(args: argparse.Namespace) -> int:
    from engine.chapters import find_chapters
    from engine.export.naming import write_outputs
    from engine.export.reader import read_transcript

    try:
        formats = parse_formats(args.formats)
        out_dir = output_dir(args.output_dir)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    status = EXIT_OK
    taken: set[Path] = set()  # two transcripts named alike (a/call.json, b/call.json) keep both exports
    for name in args.transcripts:
        src = Path(name)
        done: list[Path] = []  # written, also when a later format fails
        try:
            transcript = read_transcript(src)
            if args.no_chapters:
                transcript.chapters = []
            elif args.keywords or args.auto_chapters:
                transcript.chapters = find_chapters(
                    transcript.segments, transcript.language, args.keywords, transcript.audio.duration
                )
            stem = src.name[: -len(".json")] if src.name.lower().endswith(".json") else src.stem
            target = out_dir or src.parent
            options = {fmt: format_options(fmt, args) for fmt in formats}
            written = write_outputs(
                transcript, target, stem, formats, taken, args.overwrite, options, say, OVERWRITE_HINT, done
            )
        except MinutesError as e:
            fail(str(e))
            status = EXIT_BAD_INPUT
            continue
        finally:
            taken.update(done)
        print(f"minutes: {src.name} -> {', '.join(str(w) for w in written)}", file=sys.stderr)
    return status
