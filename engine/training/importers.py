"""Utterances from what users have: a folder of clips with .txt files, a TSV, corrected transcripts.

The transcript importer closes the loop no other app does: correct a few meetings in the
editor, then train on them. A meeting is cut into clips of at most 30 s (what Whisper hears
at once) at segment boundaries, each clip one speaker's stretch of talk, written as 16 kHz mono
WAV beside the manifest. Whatever cannot be used is left out and said in one line each, so a
manifest that is written is one that trains.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.atomic import write_bytes_atomic
from engine.audio import SAMPLE_RATE
from engine.errors import MinutesError
from engine.text import join_text, join_words, no_space
from engine.training.check import MAX_SECONDS
from engine.training.manifest import Utterance
from engine.transcript import Segment, Transcript

MAX_GAP = 2.0  # s of silence that ends a clip: no clip is mostly pause
PAD = 0.2  # s of audio kept before and after a clip's speech, where there is silence to keep


@dataclass
class Imported:
    utterances: list[Utterance] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line each: what was left out, and why


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def _join(texts: Iterable[str], language: str | None) -> str:
    """Segment texts as one line, the way the transcript's own text joins them."""
    texts = [t.strip() for t in texts if t.strip()]
    if no_space(language):
        return "".join(texts)
    out = ""
    for t in texts:
        out = join_text(out, t)
    return out


def _probe(path: Path) -> float:
    from engine.audio.decode import probe

    return probe(path).duration


# ----------------------------------------------------------------------------- folder and TSV


def import_folder(folder: str | os.PathLike[str], language: str | None = None) -> Imported:
    """Every audio file under ``folder`` that has a same-named .txt beside it (``a.wav`` + ``a.txt``)."""
    from engine.audio.decode import MEDIA_SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise MinutesError(f"'{folder}' is not a folder: give the folder that holds the clips and their .txt files.")
    audio = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file())
    if not audio:
        raise MinutesError(f"No audio files in '{folder}': put each clip there with its transcript in a .txt file.")
    out = Imported()
    for path in audio:
        txt = path.with_suffix(".txt")
        try:
            text = txt.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            out.skipped.append(f"{path}: no {txt.name} beside it")
            continue
        except (OSError, UnicodeError) as e:
            out.skipped.append(f"{txt}: cannot read it ({getattr(e, 'strerror', None) or e})")
            continue
        _add(out, path, _join(text.splitlines(), language), language, str(path))
    return out


def import_tsv(tsv: str | os.PathLike[str], language: str | None = None) -> Imported:
    """Lines of ``audio_path<TAB>text``, paths relative to the TSV's folder (or absolute)."""
    tsv = Path(tsv)
    try:
        lines = tsv.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeError) as e:
        raise MinutesError(f"Cannot read '{tsv}': {getattr(e, 'strerror', None) or e}.") from None
    out = Imported()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        rel, tab, text = line.partition("\t")
        if not tab:
            out.skipped.append(f"{tsv} line {n}: no TAB between the audio path and the text")
            continue
        _add(out, tsv.parent / rel.strip(), text, language, f"{tsv} line {n}")
    if not out.utterances and not out.skipped:
        raise MinutesError(f"'{tsv}' is empty: write one 'audio_path<TAB>text' a line.")
    return out


def _add(out: Imported, path: Path, text: str, language: str | None, where: str) -> None:
    if not text.strip():
        out.skipped.append(f"{where}: the text is empty")
        return
    try:
        seconds = _probe(path)
    except MinutesError as e:
        out.skipped.append(f"{where}: {e}")
        return
    out.utterances.append(Utterance(Path(os.path.normpath(path.absolute())), text.strip(), seconds, language))


# ----------------------------------------------------------------------------- corrected transcripts


@dataclass
class _Piece:
    start: float
    end: float
    texts: list[str]
    speaker: str | None


def _words_spell(seg: Segment, language: str | None) -> bool:
    sep = "" if no_space(language) else " "
    joined = join_words([w.word for w in seg.words], language)
    return sep.join(joined.split()) == sep.join(seg.text.split())


def _split_long(seg: Segment, language: str | None, max_seconds: float) -> list[_Piece] | None:
    """A segment longer than a clip, cut at word boundaries by its word times (None: it cannot be)."""
    words = [w for w in seg.words if w.word.strip()]
    if not words or not _words_spell(seg, language):
        return None
    chunks: list[list] = [[]]
    for w in words:
        if chunks[-1] and w.end - chunks[-1][0].start > max_seconds:
            chunks.append([])
        chunks[-1].append(w)
    if any(c[-1].end - c[0].start > max_seconds for c in chunks):  # one word longer than a clip
        return None
    return [_Piece(c[0].start, c[-1].end, [join_words([w.word for w in c], language)], seg.speaker) for c in chunks]


def _pieces(t: Transcript, max_seconds: float, where: str, skipped: list[str]) -> list[_Piece]:
    """Consecutive segments of one speaker, no long pause inside, at most ``max_seconds`` each."""
    items: list[_Piece] = []
    for seg in sorted((s for s in t.segments if s.text.strip()), key=lambda s: s.start):
        if seg.end - seg.start <= max_seconds:
            items.append(_Piece(seg.start, seg.end, [seg.text], seg.speaker))
            continue
        parts = _split_long(seg, t.language, max_seconds)
        if parts is None:
            skipped.append(
                f"{where}: the segment at {_clock(seg.start)} is {seg.end - seg.start:.0f} s long and has no word "
                f"times that spell its text to cut it at: split it in the editor"
            )
        items += parts or []
    pieces: list[_Piece] = []
    for it in items:
        last = pieces[-1] if pieces else None
        if (
            last is not None
            and it.speaker == last.speaker
            and it.start - last.end <= MAX_GAP
            and max(it.end, last.end) - last.start <= max_seconds
        ):
            last.end = max(last.end, it.end)
            last.texts += it.texts
        else:
            pieces.append(_Piece(it.start, it.end, list(it.texts), it.speaker))
    return pieces


def _spans(pieces: list[_Piece], duration: float, max_seconds: float) -> list[tuple[float, float]]:
    """Clip times: each piece with up to PAD s of the silence around it, never into other speech."""
    out = []
    for i, p in enumerate(pieces):
        prev_end = pieces[i - 1].end if i else 0.0
        next_start = pieces[i + 1].start if i + 1 < len(pieces) else duration
        a = max(p.start - PAD, min(p.start, prev_end), 0.0)
        b = min(p.end + PAD, max(p.end, next_start), duration)
        if b - a > max_seconds:
            a, b = max(p.start, 0.0), min(p.end, duration)
        out.append((a, b))
    return out


def _cut(blocks: Iterable[np.ndarray], spans: list[tuple[int, int]]) -> Iterator[np.ndarray]:
    """The samples of each span (in start order; they may overlap), reading the recording once."""
    blocks = iter(blocks)
    buf, at = np.zeros(0, dtype=np.float32), 0  # buf holds samples [at, at + len(buf))
    for a, b in spans:
        while True:
            if at < a:  # what lies before this span no later span needs
                drop = min(a - at, buf.size)
                buf, at = buf[drop:], at + drop
            if at + buf.size >= b:
                break
            block = next(blocks, None)
            if block is None:
                break
            buf = np.concatenate([buf, block])
        yield buf[max(a - at, 0) : max(b - at, 0)]


def _speaker_names(t: Transcript, stem: str) -> dict[str, str]:
    """Speaker id -> the speaker's label: the name the user gave, or, for "Speaker N", one that
    is only this meeting's (S1 of one meeting is not S1 of the next)."""
    names = {s.id: s.name for s in t.speakers}
    ids = {s.speaker for s in t.segments if s.speaker}
    out = {}
    for sid in ids:
        name = (names.get(sid) or "").strip()
        default = not name or name in (sid, f"Speaker {sid[1:]}")
        out[sid] = f"{stem} {sid}" if default else name
    return out


def _wav_bytes(samples: np.ndarray) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def import_transcript(
    path: str | os.PathLike[str],
    clips_dir: str | os.PathLike[str],
    max_seconds: float = MAX_SECONDS,
    name: str | None = None,
) -> Imported:
    """A Minutes transcript (corrected in the editor) as clips of its recording, written to ``clips_dir``.

    ``name`` (default: the file's stem) tells this meeting's unnamed speakers from another's."""
    from engine.audio.decode import stream_audio
    from engine.export.reader import read_transcript

    path, clips_dir = Path(path), Path(clips_dir)
    t = read_transcript(path)
    audio = Path(t.audio.path)
    audio = audio if audio.is_absolute() else path.parent / audio
    if not audio.is_file():
        raise MinutesError(f"The recording of '{path.name}' is not at '{audio}': put it back, or fix 'audio.path'.")
    out = Imported()
    pieces = _pieces(t, max_seconds, path.name, out.skipped)
    if not pieces:
        out.skipped.append(f"{path.name}: no segment with text to train on")
        return out
    duration = _probe(audio)
    spans = _spans(pieces, duration, max_seconds)
    try:
        clips_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinutesError(f"Cannot create the clips folder '{clips_dir}': {e.strerror or e}.") from None
    speakers = _speaker_names(t, name or path.stem)
    samples = [(round(a * SAMPLE_RATE), round(b * SAMPLE_RATE)) for a, b in spans]
    for n, (piece, clip) in enumerate(zip(pieces, _cut(stream_audio(audio), samples)), 1):
        if clip.size < SAMPLE_RATE // 10:
            out.skipped.append(f"{path.name}: the speech at {_clock(piece.start)} is past the end of the recording")
            continue
        wav = write_bytes_atomic(clips_dir / f"{n:04d}.wav", _wav_bytes(clip))
        speaker = speakers.get(piece.speaker) if piece.speaker else None
        text = _join(piece.texts, t.language)
        out.utterances.append(Utterance(wav.absolute(), text, clip.size / SAMPLE_RATE, t.language, speaker))
    return out
