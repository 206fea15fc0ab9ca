"""`minutes voices`: enrol, list and delete the voice profiles that name speakers in later meetings."""

from __future__ import annotations

import argparse
import sys

from app.common import EXIT_BAD_INPUT, fail
from engine.errors import MinutesError


def add_parser(sub) -> None:
    v = sub.add_parser("voices", help="voice profiles: name speakers automatically in later meetings")
    vs = v.add_subparsers(dest="voices_command")
    vs.add_parser("list", help="the enrolled voices")
    a = vs.add_parser("add", help="enrol a voice from a recording of one person, or a speaker of a transcript")
    a.add_argument("name", help="the person's name, e.g. 'Anya Petrova'")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="from_audio", metavar="AUDIO", help="a recording of that person alone")
    src.add_argument("--transcript", metavar="JSON", help="a transcript made by minutes (with speakers)")
    a.add_argument("--speaker", metavar="ID", help="with --transcript: the speaker id (S1, S2, ...) or name")
    d = vs.add_parser("delete", help="forget a voice")
    d.add_argument("name")


def _speech_of(diarizer, path: str) -> list[tuple[float, float]]:
    from engine.audio.decode import stream_audio

    _, speech, _ = diarizer.features(stream_audio(path))
    return speech


def voices_command(args: argparse.Namespace) -> int:
    from engine.speakers.profiles import ProfileStore

    store = ProfileStore()
    try:
        if args.voices_command == "list" or args.voices_command is None:
            profiles = store.load()
            if not profiles:
                print("No voices enrolled. Add one with: minutes voices add NAME --from RECORDING")
            for p in profiles:
                print(f"{p.name}\t{p.seconds:.0f} s of speech\tenrolled {p.created}")
            return 0
        if args.voices_command == "delete":
            store.delete(args.name)
            print(f"Deleted the voice of {args.name}.")
            return 0
        return _add(args, store)
    except MinutesError as e:
        fail(str(e))
        return EXIT_BAD_INPUT


def _add(args: argparse.Namespace, store) -> int:
    from engine.audio.decode import load_audio
    from engine.export.reader import read_transcript
    from engine.speakers.diarize import Diarizer
    from engine.speakers.profiles import voice_from_turns

    diarizer = Diarizer()
    if args.from_audio:
        path = args.from_audio
        turns = _speech_of(diarizer, path)
    else:
        if not args.speaker:
            raise MinutesError("Say which speaker to enrol: --speaker S1 (see the transcript's speakers).")
        t = read_transcript(args.transcript)
        wanted = {s.id for s in t.speakers if args.speaker in (s.id, s.name)} or {args.speaker}
        turns = [(s.start, s.end) for s in t.segments if s.speaker in wanted]
        if not turns:
            ids = ", ".join(f"{s.id} ({s.name})" for s in t.speakers) or "none"
            raise MinutesError(f"No speech by '{args.speaker}' in '{args.transcript}' (speakers: {ids}).")
        path = t.audio.path
    audio = load_audio(path)
    encoders = [diarizer]  # GE2E, and CAM++ where installed: a meeting may be diarized by either
    try:
        from engine.speakers.campplus import CamEncoder

        encoders.append(CamEncoder())
    except MinutesError as e:
        print(f"Note: {e} The profile will only match meetings diarized with GE2E.", file=sys.stderr)
    vector, seconds = voice_from_turns(encoders, audio, turns)
    prof = store.enroll(args.name, vector, seconds)
    print(f"Enrolled the voice of {prof.name} from {prof.seconds:.0f} s of speech.")
    return 0
