"""`minutes data`: make and check the manifests that fine-tuning trains on (engine/training).

`check` lists every problem of a manifest with its line and what to do (exit 1 when there are
any), so a training run never starts on data that wastes it; `import` writes a manifest from a
folder of clips, a TSV or corrected transcripts, and checks what it wrote.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.common import EXIT_BAD_INPUT, EXIT_OK, fail, output_dir, say
from engine.errors import MinutesError

EXIT_PROBLEMS = 1  # the manifest is readable but has problems (each listed)
SHOW_SKIPPED = 20  # a folder of 500 clips without .txt files needs no 500 lines to say so


def add_parser(sub) -> None:
    d = sub.add_parser("data", help="training data: import recordings into a manifest, check a manifest")
    ds = d.add_subparsers(dest="data_command")
    c = ds.add_parser("check", help="list every problem of a manifest (line, problem, what to do)")
    c.add_argument("manifest", metavar="MANIFEST", help="a .jsonl manifest")
    i = ds.add_parser("import", help="write a manifest from clips, a TSV or corrected transcripts")
    i.add_argument("--folder", action="append", default=[], metavar="DIR", help="audio files with same-named .txt")
    i.add_argument("--tsv", action="append", default=[], metavar="FILE", help="lines of audio_path<TAB>text")
    i.add_argument(
        "--transcript", action="append", nargs="+", default=[], metavar="JSON",
        help="Minutes transcripts (corrected in the editor): cut into clips of at most 30 s",
    )  # fmt: skip
    i.add_argument("-o", "--output", required=True, metavar="OUT.jsonl", help="the manifest to write")
    i.add_argument("--language", default=None, help="language code of --folder and --tsv clips, e.g. en")
    i.add_argument("--dev-fraction", type=float, default=None, metavar="F", help="share of the audio for a dev set")
    i.add_argument("--dev-out", default=None, metavar="DEV.jsonl", help="where the dev set goes")
    i.add_argument("--seed", type=int, default=0, help="the split's seed (default 0)")


def data_command(args: argparse.Namespace) -> int:
    try:
        if args.data_command == "check":
            return _report(Path(args.manifest))
        if args.data_command == "import":
            return _import(args)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT
    print("usage: minutes data check MANIFEST | minutes data import ... -o OUT.jsonl", file=sys.stderr)
    return EXIT_BAD_INPUT


def _report(path: Path, quiet: bool = False) -> int:
    """Print the problems of ``path`` as a table; EXIT_PROBLEMS when there are any (``quiet``: say
    nothing when there are none)."""
    from engine.training.check import check_manifest
    from engine.training.manifest import manifest_lines

    problems = check_manifest(path)
    if not problems:
        if not quiet:
            print(f"{path}: {len(manifest_lines(path))} utterances, no problems.")
        return EXIT_OK
    width = min(60, max(len(p.problem) for p in problems))
    print(f"{'line':>5}  {'problem':<{width}}  what to do")
    for p in problems:
        print(f"{p.line:>5}  {p.problem:<{width}}  {p.hint}")
    lines = len({p.line for p in problems})
    print(f"{path}: {len(problems)} problem{'s' * (len(problems) != 1)} on {lines} line{'s' * (lines != 1)}.")
    return EXIT_PROBLEMS


def _import(args: argparse.Namespace) -> int:
    from engine.training.importers import Imported, import_folder, import_transcript, import_tsv
    from engine.training.manifest import split_manifest, write_manifest

    transcripts: dict[Path, Path] = {}  # each meeting once, in the order given
    for t in (Path(t) for group in args.transcript for t in group):
        transcripts.setdefault(t.resolve(), t)
    if not (args.folder or args.tsv or transcripts):
        raise MinutesError("Say what to import: --folder DIR, --tsv FILE or --transcript FILE.json.")
    if (args.dev_fraction is None) != (args.dev_out is None):
        raise MinutesError("--dev-fraction and --dev-out go together: the share of the audio and where it goes.")
    if args.dev_fraction is not None and not 0 < args.dev_fraction < 1:
        raise MinutesError(f"--dev-fraction is a share of the audio, above 0 and below 1 (not {args.dev_fraction}).")
    out = Path(args.output)
    got = Imported()
    for folder in args.folder:
        _gather(got, import_folder(folder, args.language))
    for tsv in args.tsv:
        _gather(got, import_tsv(tsv, args.language))
    clips, used = out.parent / f"{out.stem}_clips", set()
    for path in transcripts.values():
        name, k = path.stem, 1
        while name in used:  # two meetings called call.json: call/ and call-2/
            k += 1
            name = f"{path.stem}-{k}"
        used.add(name)
        _gather(got, import_transcript(path, clips / name, name=name))
    for line in got.skipped[:SHOW_SKIPPED]:
        say(f"skipped {line}")
    if len(got.skipped) > SHOW_SKIPPED:
        say(f"skipped {len(got.skipped) - SHOW_SKIPPED} more")
    if not got.utterances:
        raise MinutesError("Nothing to import: every clip was skipped (see above).")
    written = [(out, got.utterances)]
    if args.dev_fraction is not None:
        split = split_manifest(got.utterances, args.dev_fraction, args.seed)
        written = [(out, split.train), (Path(args.dev_out), split.dev)]
        say(f"split by {'speaker' if split.by_speaker else 'utterance'} (seed {args.seed})")
    for path, utts in written:
        output_dir(str(path.parent))
        write_manifest(path, utts)
        speakers = len({u.speaker for u in utts if u.speaker})
        who = f", {speakers} speaker{'s' * (speakers != 1)}" if speakers else ""
        print(f"{path}: {len(utts)} utterances, {sum(u.duration for u in utts) / 60:.1f} min of audio{who}.")
    status = EXIT_OK
    for path, utts in written:
        if utts and _report(path, quiet=True) != EXIT_OK:
            status = EXIT_PROBLEMS
    return status


def _gather(into, part) -> None:
    into.utterances += part.utterances
    into.skipped += part.skipped
