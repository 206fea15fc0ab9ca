"""Synthetic meetings that test what the shared diarization sets cannot: close voices, long meetings, crowds.

    .venv/bin/python bench/diarization_meetings.py --build                       # create the sets once (~0.6 GB)
    .venv/bin/python bench/diarization_meetings.py --pipeline ge2e --sets close_voices
    .venv/bin/python bench/diarization_meetings.py --pipeline overlap            # every set, overlap-aware diarizer
    .venv/bin/python bench/diarization_meetings.py --sets close_voices --words   # + word speaker error via the CLI
    .venv/bin/python bench/diarization_meetings.py --sets close_voices --oracle-count  # reference count given
    .venv/bin/python bench/diarization_meetings.py --sets six_voices_30min,crowd --threads 1 --json OUT.json

The sets are built into bench/out/meetings/<set>/ (16 kHz mono PCM16 WAV and a reference RTTM;
--build skips files that exist, so it is safe to rerun; everything is seeded):

- close_voices (held out: tune nothing on it): two three-person meetings spoken by ONE
  synthesizer, espeak-ng at 165 words a minute, with three close variants of one family each:
  close_male (en-us+m2, +m5, +m6) and close_female (en-us+f1, +f2, +f5). These were picked as the
  most alike pairs under the GE2E encoder (cosine 0.85-0.95 between voices, 0.96-0.98 within one).
  Long solo turns (15-40 s, several sentences of the meeting text below), 0.3-0.6 s between turns,
  about 5 minutes each. ``<name>.words.tsv`` holds every word with its times and speaker (starts from
  espeak's word events; a word ends where the next starts or its clause ends, trailing silence
  trimmed; words espeak voices as one share that span) and ``<name>.turns.tsv`` each turn's text.
- close_voices_dev: six more such meetings to tune on (the split test of
  engine/speakers/local_clustering.py was chosen on these): other variants, other base voices,
  the texts swapped: dev_male (en-us+m1, +m3, +m4), dev_mixed (en-us+f3, +f4, +m7), dev_029m
  (en-029+m2, +m5, +m6), dev_029f (en-029+f1, +f2, +f5: the held-out female variants on another
  base voice and text), dev_scof (en-gb-scotland+f2, +f4, +f5), dev_rpm (en-gb-x-rp+m1, +m4, +m6).
- six_voices_{30,60,120}min: six LibriSpeech voices of /work/shared/data/speaker_pool (seeded pick
  among utterances of 12 s or more), each turn a random 2-8 s piece of that voice's one utterance
  (silence trimmed at its edges, so the RTTM is the speech), random order with no immediate repeat,
  0.2-0.8 s gaps. One seed for all three: the 30-minute meeting is the first half hour of the 60,
  and that the first hour of the 120, so accuracy over length compares on the same turns.
- crowd: ami_60min, the 14 AMI excerpts of ami_pyannote_debug joined (as longform/
  ami_debug_concat_7min) and repeated, cut at 60 minutes. The speakers keep their AMI IDs, which
  are global: 27 people, some in several excerpts (tst00/tst01 share the EN2002 four); a repeat is
  the same people again. en_asr_x5, longform/en_asr_concat.wav played five times with 0.5 s
  between plays (27.7 min): no RTTM exists, so only the count is scored; it holds about nine
  voices (SOURCES.md), 76 % of its speech one LJ Speech reader (``.segments.tsv`` says who is
  where). In both, more people than the maximum talk: the count found must be the maximum (8).

Scoring, per file, of ``--pipeline ge2e`` (engine.speakers.diarize.Diarizer) or ``overlap``
(engine.speakers.overlap_diarize.OverlapDiarizer) with default DiarizationOptions, each file
diarized in its own subprocess from stream_audio blocks, as the app feeds it:

- DER at collar 0.25 s and 0 s, overlap scored (pyannote.metrics, as bench/diarization.py), and its
  missed / false alarm / confusion parts at 0.25 s; the hypothesis is the turns plus the overlaps
  (a second voice where two talk); the set's figure is pyannote's total over its files;
- the speaker count found against the reference (crowd: against the maximum);
- misattributed: the share of reference single-speaker time (10 ms frames) whose hypothesis turn
  speaker is wrong after the best one-to-one mapping of hypothesis to reference speakers (Hungarian
  on frame co-occurrence); unlabelled: the share where no turn covers it (the two add up);
- seconds of diarization per minute of audio (model loading excluded, decoding included) and the
  peak RSS of the file's subprocess (os.wait4), models and all;
- with --words (any set; a full transcription per file): the real CLI (``minutes transcribe FILE -f rttm,json
  --language en -o OUTDIR -q``, as bench/diarization_product.py runs it), word speaker error of
  its JSON against the reference RTTM (that script's word_speaker_error: word midpoints, Hungarian
  mapping) and its WER against the spoken text. The CLI diarizes with whatever pipeline the app
  uses, not --pipeline.

--oracle-count gives each file's reference count as num_speakers (not for crowd, whose count is
the test). Hypotheses are kept in bench/out/meetings/hyp/<pipeline>/<file>.rttm, CLI outputs in
bench/out/meetings/cli/. The report (default bench/out/meetings_<pipeline>[_count_given].json)
keeps sets scored by earlier runs and replaces those scored again, so sets can be run one by one.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scoring import data_dir  # noqa: E402

OUT = REPO / "bench" / "out" / "meetings"
SR = 16000
FRAME = 0.01  # seconds per frame of the misattribution score
PIPELINES = ("ge2e", "overlap")


# --------------------------------------------------------------------------------------------------
# The close-voices meetings: what is said, by whom (speaker 0, 1, 2 of the meeting's voices)
# --------------------------------------------------------------------------------------------------
MEETING_MALE = (
    (
        0,
        "Good morning, everyone, and thanks for joining on short notice. I want to use this hour to settle "
        "three things: the release date for version four, the backlog of crash reports from the last update, "
        "and who owns the customer feedback survey. I know we have been going around in circles on the date, "
        "so I would like to leave today with a decision we can all live with, even if nobody loves it.",
    ),
    (
        1,
        "Let me start with the crash reports, because they affect the date. Since the last update we have "
        "received a little over two hundred reports, but when you group them by stack trace there are really "
        "only four distinct problems. Two of them are already fixed on the main branch. The third one happens "
        "when people open very large files on older laptops, and the fourth one we still cannot reproduce at "
        "all. I would not ship anything new until the large file problem is solved.",
    ),
    (
        2,
        "I agree about the large files, but I want to push back a little on holding everything else. The new "
        "export feature is finished, it has been tested for two weeks, and the sales team has promised it to at "
        "least three customers. If we wait for a fix that nobody has scoped yet, we could be waiting a month. "
        "Could we ship the export feature as a small point release now, and keep the bigger release for later?",
    ),
    (
        0,
        "That is a fair question. What would a point release cost us in testing time? Last time we did one, it "
        "took the whole quality team most of a week, mostly because the installer had to be checked on every "
        "operating system again. I would rather not repeat that experience if we can avoid it, because it "
        "pushed everything else back as well.",
    ),
    (
        1,
        "It would be less this time. The installer has not changed since the last update, so we only need to "
        "run the automated suite and a short manual check of the export screens. I would estimate two days for "
        "one person. The real risk is different. If the point release goes out and the crash rate goes up, "
        "people will blame the export feature, even if the crashes come from the old problem with large files. "
        "We should be ready to explain that clearly.",
    ),
    (
        2,
        "Then let us make it part of the release notes. We can say plainly that the large file problem is "
        "known, that we are working on it, and that there is a workaround: split the file, or open it on a "
        "machine with more memory. Customers generally respond well when we are honest about problems. They "
        "respond badly when they discover them on their own. I can draft the notes tomorrow and share them with "
        "everyone for comments.",
    ),
    (
        0,
        "All right, I am hearing agreement on a point release with the export feature, and honest release "
        "notes. Let us pencil in next Thursday for that. Now, about the fourth crash that nobody can reproduce. "
        "What do we actually know about it? Is it one customer or many, and is there anything common between "
        "the machines that report it?",
    ),
    (
        1,
        "It is eleven customers so far, and the only common thing I can see is that they all use an external "
        "monitor with a very high resolution. That might be a coincidence. I asked two of them for detailed "
        "logs, and one has already replied. The log shows the program running out of graphics memory just "
        "before the crash, which would fit the monitor theory. I will borrow a large monitor from the design "
        "team this afternoon and try it myself.",
    ),
    (
        2,
        "If it is graphics memory, it may be the thumbnail cache. We made the thumbnails sharper in the last "
        "update, and I remember that we never put a limit on how many are kept in memory at once. On a normal "
        "screen that does not matter, but on a very large one the program draws many more thumbnails at the "
        "same time. That would be an easy fix, maybe twenty lines of code and a test.",
    ),
    (
        0,
        "That sounds promising. Please pair on it this afternoon, the two of you, and send a short note to the "
        "group when you know more. Let us move to the survey. We collected nearly nine hundred answers last "
        "month, and so far nobody has had time to read them properly. I do not want them to sit in a "
        "spreadsheet until they are out of date.",
    ),
    (
        2,
        "I can take the survey, but I would like some help with the analysis. Most of the answers are free "
        "text, and reading nine hundred of them by hand will take days. My plan would be to read a random "
        "sample of one hundred first, write down the main themes, and then sort the rest into those themes. I "
        "could present the results at the next planning meeting, in about two weeks.",
    ),
    (
        1,
        "I can give you a few hours a week for that. I am also curious about one theme I keep hearing from "
        "support, which is that new users do not find the settings page. If the survey confirms that, it might "
        "be a cheap improvement for version four, and it would look good next to the fixes. I would be happy to "
        "sit with you for the first read, so we agree on what counts as a theme.",
    ),
    (
        0,
        "Good, then let me summarize before we run out of time. We ship a point release with the export "
        "feature next Thursday, with release notes that explain the large file problem. You two look into the "
        "graphics memory crash today. The survey goes to you, with help from the support side, and we hear the "
        "results in two weeks. The date for version four stays open until the large file fix is scoped. Thank "
        "you, everyone, that was a productive hour.",
    ),
)

MEETING_FEMALE = (
    (
        1,
        "Shall we begin? The main item today is the office move in the spring, and after that the hiring "
        "budget for the second half of the year. I have sent around the floor plans from the landlord. Please "
        "keep in mind that nothing is signed yet, so if something in the plans does not work for your team, "
        "now is the time to say so. I would also like to hear from each of you how the move affects the plans "
        "of your team.",
    ),
    (
        2,
        "I had a look at the plans last night. The new space is bigger, which is good, but there are only two "
        "meeting rooms for the whole floor. We currently have four, and they are already booked most of the "
        "day. If we move with only two, people will end up taking calls at their desks, and the open area will "
        "become very noisy. Could we ask the landlord to split the large corner room into two smaller ones?",
    ),
    (
        0,
        "We asked about that last week. They said it is possible, but we would have to pay for the walls, and "
        "the estimate they gave was quite high. Another option is to turn part of the kitchen into a quiet room "
        "with a few phone booths. The booths are not cheap either, but we could take them with us if we ever "
        "move again, which is not true of walls.",
    ),
    (
        1,
        "I like the booths. They are also faster to install, and the move is only four months away. How many "
        "would we need, roughly, if we want people to find a free one most of the time? I would rather buy a "
        "few too many than have a queue outside every morning. And if we buy them, I would like at least one "
        "of them to be large enough for two people.",
    ),
    (
        2,
        "Based on how often the current rooms are booked for calls with only one person, I would say six "
        "booths for about sixty people. That is the ratio that the furniture supplier recommended as well. If "
        "we buy six now and see that they are always full, we can add two more in the autumn. The supplier "
        "keeps the same model for several years, so they would match.",
    ),
    (
        0,
        "Six sounds reasonable. I will ask for a firm quote and put it next to the cost of the walls, so we "
        "can compare properly. On the budget: the finance team has approved the second half, but with a "
        "smaller increase than we asked for. We asked for eight new positions, and we have money for five. So "
        "we need to decide which five matter most.",
    ),
    (
        1,
        "For my team the most urgent one is a second data engineer. At the moment we have one person who "
        "understands the nightly reports, and when she was on holiday last month, two of the reports failed and "
        "nobody could fix them for three days. That is a risk for the whole company, not only for my team. I "
        "would put that position at the top of the list.",
    ),
    (
        2,
        "I agree with the data engineer. My own request is two support specialists, because the number of "
        "tickets has doubled since January. But I could live with one now and one at the start of next year, "
        "if the product fixes that are planned actually reduce the number of tickets. That gives us a little "
        "room for the other teams. Tickets about passwords alone take up half a day every week.",
    ),
    (
        0,
        "That is generous, thank you. So far we have the data engineer and one support specialist. The design "
        "team asked for a researcher, and the sales team asked for two account managers. If we take one account "
        "manager and the researcher, we are at four, and there is one position left. I would keep it open until "
        "the summer, so we can react to whatever surprises the first half brings.",
    ),
    (
        1,
        "I am not sure about keeping one open. In my experience, a position that is not filled by the summer "
        "is often taken away in the next budget round, because it looks like we did not need it. I would rather "
        "choose now and start the search early. Good candidates take three months to find, sometimes longer.",
    ),
    (
        2,
        "That is true. Last year we lost a position exactly that way. If we have to choose now, I would give "
        "the fifth one to the second account manager. The sales team brings in the money that pays for "
        "everyone else, and they have been short of people since two of them left in the winter. I know that "
        "is not what the design team hoped for, but I can explain it to them myself.",
    ),
    (
        0,
        "All right, I can accept that. Then the list is the data engineer, one support specialist, the "
        "researcher, and two account managers. I will send it to finance this week. Let us come back to the "
        "office for a moment. Does anyone need anything else from the landlord before we sign? Parking, "
        "storage, access in the evening?",
    ),
    (
        1,
        "Storage, yes. We have a lot of equipment from the events team in the current basement, and the new "
        "building has no basement at all. We need at least a small locked room for it, or we need to rent "
        "space somewhere else. I will find out exactly how much there is and send the numbers to you by "
        "Friday, so you can include it in the request.",
    ),
    (
        2,
        "And please ask about bicycles. About a third of us cycle to work, and the plans do not show any place "
        "to leave a bicycle indoors. That sounds like a small thing, but it will be the first thing people "
        "complain about on the day we move. Let us meet again in two weeks, once we have the quotes and the "
        "numbers for storage. Thank you both, I think that covers everything for today.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Writing sets
# --------------------------------------------------------------------------------------------------
def write_rttm(path: Path, uri: str, turns: list[tuple[float, float, str]]) -> None:
    lines = [f"SPEAKER {uri} 1 {a:.3f} {b - a:.3f} <NA> <NA> {label} <NA> <NA>" for a, b, label in turns if b > a]
    path.write_text("\n".join(lines) + "\n")


def frame_rms(x: np.ndarray, hop: int = SR // 100) -> np.ndarray:
    """RMS of consecutive 10 ms frames."""
    n = len(x) // hop
    return np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) if n else np.zeros(0)


def speech_extent(x: np.ndarray, threshold: float) -> tuple[int, int]:
    """First and last sample of the 10 ms frames whose RMS reaches ``threshold`` ((0, 0) if none)."""
    hop = SR // 100
    loud = np.flatnonzero(frame_rms(x, hop) >= threshold)
    if not len(loud):
        return 0, 0
    return int(loud[0] * hop), int(min(len(x), (loud[-1] + 1) * hop))


def fade(x: np.ndarray, seconds: float = 0.01) -> np.ndarray:
    """A short linear fade in and out, so cut pieces do not click."""
    n = min(len(x) // 2, int(seconds * SR))
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


class Espeak:
    """espeak-ng through its library: 16 kHz audio of a text and the sample where each word starts."""

    WORD, END = 1, 5  # espeak_EVENT_TYPE

    class _Event(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int),
            ("unique_identifier", ctypes.c_uint),
            ("text_position", ctypes.c_int),  # 1-based character
            ("length", ctypes.c_int),
            ("audio_position", ctypes.c_int),  # ms
            ("sample", ctypes.c_int),
            ("user_data", ctypes.c_void_p),
            ("id", ctypes.c_char * 8),
        ]

    def __init__(self, rate: int = 165) -> None:
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        self.rate = rate
        self.native = self.lib.espeak_Initialize(2, 0, None, 0)  # AUDIO_OUTPUT_SYNCHRONOUS; returns Hz
        if self.native <= 0:
            raise RuntimeError("espeak-ng did not initialise")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int]] = []
        proto = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(self._Event)
        )
        self._callback = proto(self._collect)  # kept alive as long as the library may call it
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != 0:
            e = events[i]
            self._events.append((e.type, e.text_position - 1, e.sample))
            i += 1
        return 0

    def say(self, text: str, voice: str) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
        """(16 kHz float32 audio, [(start s, end s, word)]) of ``text`` spoken by ``voice``."""
        from math import gcd

        from scipy.signal import resample_poly

        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {voice}")
        self.lib.espeak_SetParameter(1, self.rate, 0)  # espeakRATE
        self._chunks, self._events = [], []
        data = text.encode("ascii")
        buf = ctypes.create_string_buffer(data)
        self.lib.espeak_Synth(buf, len(data) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
        self.lib.espeak_Synchronize()
        raw = np.concatenate(self._chunks).astype(np.float32) / 32768.0
        g = gcd(SR, self.native)
        audio = resample_poly(raw, SR // g, self.native // g).astype(np.float32)
        scale = SR / self.native
        return audio, self._word_times(text, [(t, p, s * scale / SR) for t, p, s in self._events], audio)

    def _word_times(self, text: str, events, audio: np.ndarray) -> list[tuple[float, float, str]]:
        tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
        starts: list[float | None] = [None] * len(tokens)
        for kind, pos, t in events:
            if kind == self.WORD:
                for i, (a, b, _) in enumerate(tokens):
                    if a <= pos < b and starts[i] is None:
                        starts[i] = t
        clause_ends = sorted(t for kind, _, t in events if kind == self.END)
        duration = len(audio) / SR
        for i in range(len(starts)):  # a word espeak merged into its neighbour starts with it
            if starts[i] is None:
                starts[i] = starts[i - 1] if i else 0.0
        words: list[tuple[float, float, str]] = []
        i = 0
        while i < len(tokens):
            j = i
            while j + 1 < len(tokens) and starts[j + 1] == starts[i]:
                j += 1
            start = float(starts[i])
            nxt = float(starts[j + 1]) if j + 1 < len(tokens) else duration
            end = min([nxt, *[c for c in clause_ends if c > start]])
            a0, b0 = int(start * SR), int(end * SR)
            _, last = speech_extent(audio[a0:b0], 0.01)
            if last:
                end = start + last / SR
            chars = [len(tokens[k][2]) for k in range(i, j + 1)]
            edges = start + (end - start) * np.concatenate([[0], np.cumsum(chars)]) / sum(chars)
            words += [(float(edges[k]), float(edges[k + 1]), tokens[i + k][2]) for k in range(len(chars))]
            i = j + 1
        return words


@dataclass(frozen=True)
class Recording:
    """One benchmark file: its set, name and how to build it (``build(folder, name)``)."""

    set: str
    name: str
    build: Callable[[Path, str], None]
    count_is_max: bool = False  # more people than the maximum talk: the count found must be the maximum
    has_rttm: bool = True

    @property
    def wav(self) -> Path:
        return OUT / self.set / f"{self.name}.wav"

    @property
    def rttm(self) -> Path:
        return self.wav.with_suffix(".rttm")

    def built(self) -> bool:
        return self.wav.exists() and (self.rttm.exists() or not self.has_rttm)


def _save_wav(path: Path, audio: np.ndarray) -> None:
    import soundfile as sf

    tmp = path.with_suffix(".part.wav")
    sf.write(tmp, np.clip(audio, -1.0, 1.0), SR, subtype="PCM_16")
    tmp.replace(path)


def build_close(voices: tuple[str, str, str], turns, seed: int) -> Callable[[Path, str], None]:
    def build(folder: Path, name: str) -> None:
        es = Espeak()
        rng = np.random.default_rng(seed)
        labels = [v.split("+")[-1] for v in voices]
        pieces, ref, words, rows = [], [], [], []
        cursor, t = 0, 0.5  # samples written; where the next turn starts (s)
        for k, text in turns:
            audio, wt = es.say(text, voices[k])
            a, b = speech_extent(audio, 0.01)
            audio = audio[a:b]
            start = int(round(t * SR))
            pieces += [np.zeros(start - cursor, np.float32), audio]
            cursor = start + len(audio)
            t0, dur = start / SR, len(audio) / SR
            ref.append((t0, t0 + dur, labels[k]))
            rows.append(f"{t0:.3f}\t{t0 + dur:.3f}\t{labels[k]}\t{text}")
            for ws, we, w in wt:
                ws, we = max(0.0, ws - a / SR), min(dur, we - a / SR)
                if we > ws:
                    words.append(f"{t0 + ws:.3f}\t{t0 + we:.3f}\t{labels[k]}\t{w}")
            t = t0 + dur + rng.uniform(0.3, 0.6)
        audio = np.concatenate([*pieces, np.zeros(SR // 2, np.float32)])
        audio *= 0.9 / np.max(np.abs(audio))
        (folder / f"{name}.turns.tsv").write_text("start\tend\tspeaker\ttext\n" + "\n".join(rows) + "\n")
        (folder / f"{name}.words.tsv").write_text("start\tend\tspeaker\tword\n" + "\n".join(words) + "\n")
        write_rttm(folder / f"{name}.rttm", name, ref)
        _save_wav(folder / f"{name}.wav", audio)

    return build


def pool_voices(n: int, seed: int, min_seconds: float = 12.0) -> list[Path]:
    import soundfile as sf

    files = [f for f in sorted((data_dir() / "speaker_pool").glob("*.flac")) if sf.info(f).duration >= min_seconds]
    rng = np.random.default_rng(seed)
    return [files[i] for i in sorted(rng.choice(len(files), n, replace=False))]


def build_six(minutes: int, seed: int = 6) -> Callable[[Path, str], None]:
    """Six pool voices taking 2-8 s turns; the same seed for every length, so shorter ones are prefixes."""

    def build(folder: Path, name: str) -> None:
        import soundfile as sf

        voices = []
        for path in pool_voices(6, seed):
            x = sf.read(path, dtype="float32")[0]
            rms = frame_rms(x)
            active = rms[rms >= rms.max() * 10 ** (-35 / 20)]
            x = x * (0.05 / float(np.median(active)))  # speech level about -26 dBFS
            voices.append((path.name.split("-")[0], x, 0.05 * 10 ** (-30 / 20)))
        rng = np.random.default_rng(seed)
        target = minutes * 60.0
        tmp = folder / f"{name}.part.wav"
        ref, t, last = [], 0.0, -1
        with sf.SoundFile(tmp, "w", SR, 1, "PCM_16") as out:
            written = 0
            while t < target:
                k = int(rng.choice([i for i in range(len(voices)) if i != last]))
                label, x, threshold = voices[k]
                for _ in range(50):
                    length = min(len(x), int(rng.uniform(2.0, 8.0) * SR))
                    start = int(rng.integers(0, len(x) - length + 1))
                    piece = x[start : start + length]
                    a, b = speech_extent(piece, threshold)
                    if b - a >= SR:
                        break
                piece = fade(piece[a:b])
                gap = int(round(rng.uniform(0.2, 0.8) * SR))
                out.write(np.zeros(gap, np.float32))
                out.write(np.clip(piece, -1.0, 1.0))
                ref.append(((written + gap) / SR, (written + gap + len(piece)) / SR, label))
                written += gap + len(piece)
                t, last = written / SR, k
            out.write(np.zeros(SR // 2, np.float32))
        write_rttm(folder / f"{name}.rttm", name, ref)
        tmp.replace(folder / f"{name}.wav")

    return build


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def build_ami(minutes: int = 60) -> Callable[[Path, str], None]:
    """The AMI excerpts end to end, repeated and cut at ``minutes``; AMI's global speaker IDs kept."""

    def build(folder: Path, name: str) -> None:
        import soundfile as sf

        src = data_dir() / "diarization" / "ami_pyannote_debug"
        parts, turns, offset = [], [], 0.0
        for rttm in sorted(src.glob("*.rttm")):
            x = sf.read(rttm.with_suffix(".wav"), dtype="float32")[0]
            parts.append(x)
            turns += [(a + offset, b + offset, lab) for a, b, lab in read_rttm(rttm)]
            offset += len(x) / SR
        one = np.concatenate(parts)
        period = len(one) / SR
        target = minutes * 60.0
        tmp = folder / f"{name}.part.wav"
        ref = []
        with sf.SoundFile(tmp, "w", SR, 1, "PCM_16") as out:
            rep, left = 0, int(target * SR)
            while left > 0:
                out.write(one[:left])
                ref += [(a + rep * period, min(b + rep * period, target), lab) for a, b, lab in turns]
                left -= len(one)
                rep += 1
        write_rttm(folder / f"{name}.rttm", name, [(a, b, lab) for a, b, lab in ref if a < target])
        tmp.replace(folder / f"{name}.wav")

    return build


def build_asr_x5(times: int = 5) -> Callable[[Path, str], None]:
    """longform/en_asr_concat.wav ``times`` over, 0.5 s apart; no RTTM (who is where: .segments.tsv)."""

    def build(folder: Path, name: str) -> None:
        import soundfile as sf

        src = data_dir() / "longform" / "en_asr_concat.wav"
        x = sf.read(src, dtype="float32")[0]
        gap = np.zeros(SR // 2, np.float32)
        rows = ["start\tend\tsource\ttranscript"]
        segs = src.with_suffix(".segments.tsv").read_text(encoding="utf-8").splitlines()[1:]
        period = (len(x) + len(gap)) / SR
        for rep in range(times):
            for line in segs:
                a, b, rest = line.split("\t", 2)
                rows.append(f"{float(a) + rep * period:.3f}\t{float(b) + rep * period:.3f}\t{rest}")
        (folder / f"{name}.segments.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        _save_wav(folder / f"{name}.wav", np.concatenate([x, *[np.concatenate([gap, x]) for _ in range(times - 1)]]))

    return build


RECORDINGS = [
    Recording("close_voices", "close_male", build_close(("en-us+m2", "en-us+m5", "en-us+m6"), MEETING_MALE, 1)),
    Recording("close_voices", "close_female", build_close(("en-us+f1", "en-us+f2", "en-us+f5"), MEETING_FEMALE, 2)),
    *[
        Recording("close_voices_dev", name, build_close(voices, text, seed))
        for name, voices, text, seed in (
            ("dev_male", ("en-us+m1", "en-us+m3", "en-us+m4"), MEETING_FEMALE, 11),
            ("dev_mixed", ("en-us+f3", "en-us+f4", "en-us+m7"), MEETING_MALE, 12),
            ("dev_029m", ("en-029+m2", "en-029+m5", "en-029+m6"), MEETING_MALE, 13),
            ("dev_029f", ("en-029+f1", "en-029+f2", "en-029+f5"), MEETING_MALE, 21),
            ("dev_scof", ("en-gb-scotland+f2", "en-gb-scotland+f4", "en-gb-scotland+f5"), MEETING_FEMALE, 22),
            ("dev_rpm", ("en-gb-x-rp+m1", "en-gb-x-rp+m4", "en-gb-x-rp+m6"), MEETING_FEMALE, 23),
        )
    ],
    *[Recording(f"six_voices_{m}min", f"six_voices_{m}min", build_six(m)) for m in (30, 60, 120)],
    Recording("crowd", "ami_60min", build_ami(60), count_is_max=True),
    Recording("crowd", "en_asr_x5", build_asr_x5(5), count_is_max=True, has_rttm=False),
]
SETS = list(dict.fromkeys(r.set for r in RECORDINGS))


def build_all(sets: list[str]) -> None:
    for rec in RECORDINGS:
        if rec.set not in sets:
            continue
        if rec.built():
            print(f"  {rec.set}/{rec.name}: exists", flush=True)
            continue
        rec.wav.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        rec.build(rec.wav.parent, rec.name)
        print(f"  {rec.set}/{rec.name}: built in {time.perf_counter() - t0:.0f} s", flush=True)


# --------------------------------------------------------------------------------------------------
# Diarizing one file (in a subprocess of its own)
# --------------------------------------------------------------------------------------------------
def worker(pipeline: str, threads: int, wav: Path, out: Path, num_speakers: int | None = None) -> None:
    from engine.audio.decode import stream_audio
    from engine.speakers.diarize import DiarizationOptions

    t0 = time.perf_counter()
    if pipeline == "overlap":
        from engine.speakers.overlap_diarize import OverlapDiarizer

        diarizer = OverlapDiarizer(threads=threads)
    else:
        from engine.speakers.diarize import Diarizer

        diarizer = Diarizer(threads=threads)
    loaded = time.perf_counter() - t0
    opts = DiarizationOptions(num_speakers=num_speakers)
    t0 = time.perf_counter()
    result = diarizer(stream_audio(wav), opts)
    took = time.perf_counter() - t0

    def rows(turns):
        return [[float(t.start), float(t.end), int(t.speaker)] for t in turns]

    out.write_text(
        json.dumps(
            {
                "turns": rows(result.turns),
                "overlaps": rows(getattr(result, "overlaps", []) or []),
                "num_speakers": int(result.num_speakers),
                "max_speakers": opts.max_speakers,
                "seconds": took,
                "load_seconds": loaded,
                "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def diarize_in_child(
    pipeline: str, threads: int, wav: Path, out: Path, num_speakers: int | None = None
) -> tuple[dict | None, float | None, str]:
    """(the worker's JSON or None, the child's peak RSS in MiB, its stderr tail)."""
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(wav), "--worker-out", str(out)]
    cmd += ["--pipeline", pipeline, "--threads", str(threads)]
    if num_speakers:
        cmd += ["--num-speakers", str(num_speakers)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    data = json.loads(out.read_text()) if proc.returncode == 0 and out.exists() else None
    return data, peak, err[-1500:]


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------
def hyp_annotation(data: dict, uri: str):
    from pyannote.core import Annotation, Segment

    hyp = Annotation(uri=uri)
    for i, (a, b, k) in enumerate(data["turns"]):
        if b > a:
            hyp[Segment(a, b), f"t{i}"] = f"S{k + 1}"
    for i, (a, b, k) in enumerate(data["overlaps"]):
        if b > a:
            hyp[Segment(a, b), f"o{i}"] = f"S{k + 1}"
    return hyp


def ref_annotation(turns: list[tuple[float, float, str]], uri: str):
    from pyannote.core import Annotation, Segment

    ref = Annotation(uri=uri)
    for i, (a, b, label) in enumerate(turns):
        if b > a:
            ref[Segment(a, b), i] = label
    return ref


def misattribution(ref: list[tuple[float, float, str]], hyp_turns: list, duration: float) -> tuple[float, float, float]:
    """(misattributed share, unlabelled share, seconds) of reference single-speaker frames.

    Frames of FRAME seconds; the hypothesis is the turns (one speaker at a time); hypothesis
    speakers map one-to-one onto reference speakers to maximise agreement (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    n = int(np.ceil(duration / FRAME)) + 1
    labels = sorted({lab for _, _, lab in ref})
    talks = np.zeros((len(labels), n), bool)  # a speaker's own overlapping turns still count once
    for a, b, lab in ref:
        talks[labels.index(lab), int(round(a / FRAME)) : int(round(b / FRAME))] = True
    single = talks.sum(axis=0) == 1
    who = np.argmax(talks, axis=0)
    hyp = np.full(n, -1, np.int32)
    for a, b, k in hyp_turns:
        hyp[int(round(a / FRAME)) : int(round(b / FRAME))] = k
    total = int(single.sum())
    if not total:
        return 0.0, 0.0, 0.0
    both = single & (hyp >= 0)
    n_hyp = int(hyp.max()) + 1 if (hyp >= 0).any() else 0
    co = np.zeros((max(n_hyp, 1), len(labels)))
    np.add.at(co, (hyp[both], who[both]), 1)
    rows, cols = linear_sum_assignment(-co)
    matched = float(co[rows, cols].sum())
    labelled = int(both.sum())
    return (labelled - matched) / total, (total - labelled) / total, total * FRAME


def score_words(rec: Recording, ref, duration: float) -> dict:
    """The real CLI on the file: word speaker error (bench/diarization_product.py) and WER."""
    from pyannote.core import Segment, Timeline

    from bench.diarization_product import run_cli, word_speaker_error, word_speakers
    from engine.scoring import wer

    _, js, took = run_cli(rec.wav, OUT / "cli" / rec.name)
    wrong, scored = word_speaker_error(word_speakers(js), ref, Timeline([Segment(0, duration)]))
    data = json.loads(js.read_text(encoding="utf-8"))
    hyp_text = " ".join(s.get("text", "") for s in data["segments"])
    spoken = rec.wav.with_suffix(".turns.tsv")  # the text, where the set was synthesized from one
    ref_text = " ".join(x.split("\t", 3)[3] for x in spoken.read_text().splitlines()[1:]) if spoken.exists() else ""
    return {
        "word_speaker_error": wrong / scored if scored else None,
        "words_scored": scored,
        "wer": wer([ref_text], [hyp_text]) if ref_text else None,
        "cli_seconds": took,
    }


def score_file(rec: Recording, args, der25, der0) -> dict:
    import soundfile as sf

    duration = sf.info(rec.wav).duration
    given = None
    if args.oracle_count and rec.rttm.exists() and not rec.count_is_max:
        given = len({lab for _, _, lab in read_rttm(rec.rttm)})
    tmp = OUT / "hyp" / (args.pipeline + ("_count_given" if args.oracle_count else "")) / f"{rec.name}.json"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    data, peak, err = diarize_in_child(args.pipeline, args.threads, rec.wav, tmp, given)
    row: dict = {"file": rec.name, "minutes": duration / 60, "peak_rss_mb": peak}
    if data is None:
        row["error"] = err.strip().splitlines()[-1] if err.strip() else "worker failed"
        return row
    hyp = hyp_annotation(data, rec.name)
    write_rttm(
        tmp.with_suffix(".rttm"), rec.name, [(a, b, f"S{k + 1}") for a, b, k in data["turns"] + data["overlaps"]]
    )
    row.update(
        hyp_speakers=data["num_speakers"],
        seconds=data["seconds"],
        load_seconds=data["load_seconds"],
        seconds_per_minute=data["seconds"] / (duration / 60),
        overlap_seconds=sum(b - a for a, b, _ in data["overlaps"]),
    )
    if rec.count_is_max:
        row["count_ok"] = data["num_speakers"] == data["max_speakers"]
    if rec.rttm.exists():
        from pyannote.core import Segment, Timeline

        turns = read_rttm(rec.rttm)
        ref = ref_annotation(turns, rec.name)
        uem = Timeline([Segment(0, duration)])
        wrong, unlabelled, single = misattribution(turns, data["turns"], duration)
        parts = der25(ref, hyp, uem=uem, detailed=True)
        total = parts["total"] or 1.0
        row.update(
            ref_speakers=len(ref.labels()),
            der_c025=parts["diarization error rate"],
            der_c0=der0(ref, hyp, uem=uem),
            missed_c025=parts["missed detection"] / total,
            false_alarm_c025=parts["false alarm"] / total,
            confusion_c025=parts["confusion"] / total,
            misattributed=wrong,
            unlabelled=unlabelled,
            single_speaker_minutes=single / 60,
        )
        if not rec.count_is_max:
            row["count_ok"] = data["num_speakers"] == row["ref_speakers"]
        if args.words:
            row.update(score_words(rec, ref, duration))
    return row


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def parts(r: dict) -> str:
    """(missed/false alarm/confusion) as percentages of the reference speech, when scored."""
    if r.get("der_c025") is None:
        return ""
    return " ({:.1f}/{:.1f}/{:.1f})".format(
        *(100 * r[k] for k in ("missed_c025", "false_alarm_c025", "confusion_c025"))
    )


def table(name: str, rows: list[dict], summary: dict) -> str:
    words = any("word_speaker_error" in r for r in rows)
    head = (
        "| file | min | ref spk | hyp spk | count | DER c0.25 (miss/FA/conf) | DER c0 | misattributed "
        "| unlabelled | s/min | peak RSS MiB |"
    )
    sep = "|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|"
    if words:
        head += " word spk err | WER |"
        sep += "---:|---:|"
    lines = [f"{name}", head, sep]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['file']} | {r['minutes']:.1f} | failed: {r['error']} |")
            continue
        ok = {True: "ok", False: "WRONG", None: "–"}[r.get("count_ok")]
        line = (
            f"| {r['file']} | {r['minutes']:.1f} | {r.get('ref_speakers', '?')} | {r['hyp_speakers']} | {ok} | "
            f"{pct(r.get('der_c025'))}{parts(r)} | {pct(r.get('der_c0'))} | {pct(r.get('misattributed'))} | "
            f"{pct(r.get('unlabelled'))} | {r['seconds_per_minute']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
        if words:
            line += f" {pct(r.get('word_speaker_error'))} | {pct(r.get('wer'))} |"
        lines.append(line)
    if summary.get("der_c025") is not None:
        lines.append(
            f"set: DER {pct(summary['der_c025'])} (collar 0: {pct(summary['der_c0'])}), "
            f"misattributed {pct(summary['misattributed'])} of single-speaker time, "
            f"count ok {summary['count_ok']} of {summary['files']}"
        )
    return "\n".join(lines)


def evaluate(args, sets: list[str]) -> dict:
    from pyannote.metrics.diarization import DiarizationErrorRate

    report: dict = {"pipeline": args.pipeline, "threads": args.threads, "oracle_count": args.oracle_count, "sets": {}}
    for name in sets:
        todo = [r for r in RECORDINGS if r.set == name]
        missing = [r.name for r in todo if not r.built()]
        if missing:
            print(f"{name}: not built ({', '.join(missing)}): run with --build", flush=True)
            continue
        der25 = DiarizationErrorRate(collar=0.25, skip_overlap=False)
        der0 = DiarizationErrorRate(collar=0.0, skip_overlap=False)
        rows = []
        for rec in todo:
            row = score_file(rec, args, der25, der0)
            rows.append(row)
            print(f"  {name}/{rec.name}: {json.dumps(row, default=float)}", flush=True)
        scored = [r for r in rows if "single_speaker_minutes" in r]
        single = sum(r["single_speaker_minutes"] for r in scored)
        summary = {
            "files": len(rows),
            "count_ok": sum(bool(r.get("count_ok")) for r in rows),
            "der_c025": abs(der25) if scored else None,
            "der_c0": abs(der0) if scored else None,
            "misattributed": sum(r["misattributed"] * r["single_speaker_minutes"] for r in scored) / single
            if single
            else None,
        }
        report["sets"][name] = {"summary": summary, "files": rows, "threads": args.threads, "when": time.ctime()}
        print(table(name, rows, summary), flush=True)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="create the selected sets (skips files that exist)")
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated among {', '.join(SETS)}")
    ap.add_argument("--pipeline", choices=PIPELINES, default="ge2e")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None, help="report (default bench/out/meetings_<pipeline>.json)")
    ap.add_argument(
        "--words", action="store_true", help="also the CLI's word speaker error and WER (slow: transcribes each file)"
    )
    ap.add_argument("--score", action="store_true", help="with --build: score as well")
    ap.add_argument(
        "--oracle-count", action="store_true", help="give each file's reference count as num_speakers (not crowd)"
    )
    ap.add_argument("--num-speakers", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.pipeline, args.threads, Path(args.worker), Path(args.worker_out), args.num_speakers)
        return
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; choose among {', '.join(SETS)}")
    if args.build:
        build_all(sets)
        if not args.score:
            return
    report = evaluate(args, sets)
    suffix = "_count_given" if args.oracle_count else ""
    path = Path(args.json or OUT.parent / f"meetings_{args.pipeline}{suffix}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # one file per pipeline: sets scored in earlier runs stay, rescored ones are replaced
        old = json.loads(path.read_text())
        if old.get("pipeline") == report["pipeline"] and old.get("oracle_count") == report["oracle_count"]:
            report["sets"] = {**old.get("sets", {}), **report["sets"]}
    path.write_text(json.dumps(report, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
