"""Words to speakers: every word gets the speaker talking when it was said.

Segments are split where the speaker changes, so a segment (and a subtitle cue, a Word
paragraph) always belongs to one person. Speakers are numbered S1, S2, ... in order of first
appearance in the transcript's words; a speaker the diarization heard who says no transcribed
word (a laugh, a short "mm") comes after them. The diarization's turns are kept in the
transcript under those same ids, so the RTTM, the speaker list and the segments agree.
"""

from __future__ import annotations

from dataclasses import replace

from engine.speakers.diarize import Diarization
from engine.text import join_words
from engine.transcript import Segment, Speaker, SpeakerTurn, Transcript, Word, merge_turns


def _word_speakers(words: list[Word], diarization: Diarization, fallback: int | None) -> list[int | None]:
    labels = [diarization.speaker_at(w.start, max(w.end, w.start + 0.01)) for w in words]
    # a word the diarization did not cover (very short, in a pause) joins its neighbours
    last = fallback
    for i, lab in enumerate(labels):
        if lab is None:
            nxt = next((x for x in labels[i + 1 :] if x is not None), None)
            labels[i] = last if last is not None else nxt
        last = labels[i]
    return labels


def split_at_labels(seg: Segment, labels: list, language: str | None) -> list[Segment]:
    """``seg`` as one segment per run of words with the same label (``labels``: one per word)."""
    runs: list[tuple[object, list[Word]]] = []
    for w, lab in zip(seg.words, labels):
        if runs and runs[-1][0] == lab:
            runs[-1][1].append(w)
        else:
            runs.append((lab, [w]))
    if len(runs) <= 1:
        return [replace(seg, speaker=runs[0][0] if runs else seg.speaker)]
    return [
        replace(
            seg,
            start=words[0].start,
            end=max(words[-1].end, words[0].start),
            text=join_words((w.word for w in words), language),
            speaker=lab,
            words=words,
        )
        for lab, words in runs
    ]


def apply_speakers(transcript: Transcript, diarization: Diarization, names: dict[int, str] | None = None) -> None:
    """Set ``segment.speaker`` on every segment (splitting at speaker changes), ``transcript.speakers``
    and ``transcript.turns`` (who speaks when, speech without words included: what RTTM is written from).

    ``names``: display names for some clusters (e.g. recognised voice profiles); the rest are
    called "Speaker N".
    """
    out: list[Segment] = []
    for seg in transcript.segments:
        if not seg.words:
            seg.speaker = diarization.speaker_at(seg.start, seg.end)
            out.append(seg)
            continue
        out.extend(split_at_labels(seg, _word_speakers(seg.words, diarization, None), transcript.language))
    # number by first appearance in the transcript's words, then the clusters that say no word
    order: dict[int, str] = {}
    for seg in sorted(out, key=lambda s: s.start):
        if isinstance(seg.speaker, int) and seg.speaker not in order:
            order[seg.speaker] = f"S{len(order) + 1}"
    for t in sorted(diarization.turns, key=lambda t: t.start):
        if t.speaker not in order:
            order[t.speaker] = f"S{len(order) + 1}"
    names = names or {}
    for seg in out:
        seg.speaker = order.get(seg.speaker) if isinstance(seg.speaker, int) else seg.speaker
    transcript.segments = out
    transcript.speakers = [
        Speaker(id=sid, name=names.get(cluster, f"Speaker {sid[1:]}")) for cluster, sid in order.items()
    ]
    transcript.turns = speaker_turns(diarization, order)


def speaker_turns(diarization: Diarization, ids: dict[int, str]) -> list[SpeakerTurn]:
    """The diarization's turns under the transcript's speaker ids (``ids``: cluster -> "S<n>"),
    in start order, a second voice's overlap turns included; touching turns of one speaker are
    one (the diarizer has already smoothed)."""
    turns = diarization.turns + diarization.overlaps
    return merge_turns([SpeakerTurn(t.start, t.end, ids[t.speaker]) for t in turns if t.speaker in ids])


def rename_speaker(transcript: Transcript, speaker_id: str, name: str) -> None:
    """Give a speaker a display name (the editor's rename); ids in segments stay as they are."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("A speaker's name cannot be empty.")
    for s in transcript.speakers:
        if s.id == speaker_id:
            s.name = name
            return
    raise KeyError(f"No speaker '{speaker_id}' in this transcript.")
