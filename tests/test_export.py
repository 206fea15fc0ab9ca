"""Exports as a user meets them: subtitles a player accepts and can read, text that reads
like minutes, JSON that loads back, and failures that explain themselves and destroy nothing."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from engine import export
from engine.errors import MinutesError
from engine.transcript import AudioInfo, Chapter, ModelInfo, Segment, Speaker, SpeakerTurn, Transcript, Word

EN_1 = (
    "Let's start with the budget. We spent about twelve thousand dollars on cloud hosting last "
    "quarter, which is more than we planned, so I'd like to talk about where it went."
)
EN_2 = "Right, most of it was the staging cluster that nobody turned off."
EN_3 = "Okay, I'll shut it down today."
ZH_WORDS = "我们 今天 讨论 一下 预算 问题， 上个 季度 的 云 服务 费用 超出 了 计划， 大家 有 什么 想法 吗？".split()
ZH = "".join(ZH_WORDS)


def whisper_words(text: str, start: float, end: float) -> list[Word]:
    """Words as Whisper gives them: each with its leading space, times on a millisecond grid."""
    parts = text.split(" ")
    step = (end - start) / len(parts)
    return [
        Word(round(start + i * step, 3), round(start + (i + 1) * step - 0.04, 3), " " + p, 0.93)
        for i, p in enumerate(parts)
    ]


def make_transcript() -> Transcript:
    zh_words = [Word(round(30 + i * 0.3, 3), round(30 + i * 0.3 + 0.25, 3), w, 0.88) for i, w in enumerate(ZH_WORDS)]
    return Transcript(
        audio=AudioInfo(path="meeting.wav", duration=60.0, sample_rate=16000),
        language="en",
        model=ModelInfo(name="whisper-base", precision="int8", device="cpu"),
        segments=[
            Segment(0.5, 12.0, " " + EN_1, "S1", whisper_words(EN_1, 0.5, 12.0), avg_logprob=-0.21),
            Segment(12.4, 16.0, " " + EN_2, "S2", whisper_words(EN_2, 12.4, 16.0)),
            Segment(16.5, 18.5, " " + EN_3, "S2", whisper_words(EN_3, 16.5, 18.5)),
            Segment(30.0, 36.0, ZH, "S1", zh_words),
        ],
        speakers=[Speaker("S1", "Speaker 1"), Speaker("S2", "Speaker 2")],
        chapters=[Chapter(0.0, 18.5, "Budget", ["budget", "cloud"])],
    )


TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d{3})"


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_cues(text: str, sep: str) -> list[tuple[float, float, list[str]]]:
    """A strict little SRT/VTT reader: what a player would see, cue by cue."""
    cues = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        if lines[0] == "WEBVTT":
            continue
        if sep == ",":
            assert lines.pop(0).isdigit()
        m = re.fullmatch(rf"{TIME} --> {TIME}", lines[0])
        assert m and lines[0].count(sep) == 2, lines[0]
        cues.append((seconds(*m.groups()[:4]), seconds(*m.groups()[4:]), lines[1:]))
    return cues


def strip_label(line: str) -> str:
    return re.sub(r"^(\[Speaker \d\] |<v Speaker \d>)|</v>$", "", line)


def check_cues(cues: list[tuple[float, float, list[str]]], tr: Transcript) -> None:
    prev_end = 0.0
    for start, end, lines in cues:
        assert prev_end <= start < end, "cues in order, never overlapping"
        assert end - start <= 7.0 + 1e-9
        assert 1 <= len(lines) <= 2
        for line in lines:
            visible = re.sub(r"^<v [^>]*>|</v>$", "", line)  # a voice tag is markup, not shown text
            assert 0 < len(visible) <= 42, line
            assert line == line.strip() and "  " not in line
        prev_end = end
    shown = " ".join(strip_label(line) for _, _, lines in cues for line in lines)
    said = " ".join(s.text for s in tr.segments)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", said), "every word, in order"
    assert shown.split()[:4] == ["Let's", "start", "with", "the"]


def test_srt_cues_are_readable_subtitles(tmp_path: Path) -> None:
    tr = make_transcript()
    out = export.write(tr, "srt", tmp_path / "m.srt")
    text = out.read_text(encoding="utf-8")
    cues = parse_cues(text, ",")
    check_cues(cues, tr)
    assert len(cues) >= 5, "the 11.5 s segment is split, not shown whole"
    first_lines = [lines[0] for _, _, lines in cues]
    assert first_lines[0].startswith("[Speaker 1] Let's")
    assert sum(line.startswith("[Speaker 2] ") for line in first_lines) == 1, "same speaker: no repeated label"
    zh_cues = [c for c in cues if "预算" in "".join(c[2]) or "想法" in "".join(c[2])]
    assert zh_cues[0][2][0].startswith("[Speaker 1] "), "the speaker changed back"
    assert all(" " not in strip_label(line) for c in zh_cues for line in c[2]), "no spaces inside Chinese"
    assert zh_cues[0][0] == pytest.approx(30.0) and zh_cues[-1][1] <= 36.0


def test_cues_break_after_punctuation() -> None:
    cues = parse_cues(export.render(make_transcript(), "srt"), ",")
    english = [line for _, _, lines in cues[:3] for line in lines]
    assert english[0] == "[Speaker 1] Let's start with the budget."


def test_vtt_header_separators_and_voice_tags() -> None:
    tr = make_transcript()
    text = export.render(tr, "vtt")
    assert text.startswith("WEBVTT\n\n")
    assert "," not in re.findall(r"^.* --> .*$", text, re.M)[0]
    check_cues(parse_cues(text, "."), tr)
    cues = parse_cues(text, ".")
    voices = [re.match(r"<v ([^>]+)>", lines[0]).group(1) for _, _, lines in cues]
    assert voices[0] == "Speaker 1" and set(voices) == {"Speaker 1", "Speaker 2"}, "every cue names its voice"
    assert all(lines[-1].endswith("</v>") for _, _, lines in cues)
    assert text.count("<v ") == len(cues) == text.count("</v>")


def test_vtt_escapes_markup() -> None:
    tr = make_transcript()
    tr.segments = [Segment(0.0, 2.0, " if a < b && c --> d", None)]
    body = export.render(tr, "vtt").split("\n\n", 1)[1]
    assert "&lt;" in body and "&amp;&amp;" in body and "--&gt;" in body
    assert "<" not in body.split("\n", 1)[1]


def test_segment_without_words_is_split_by_characters() -> None:
    tr = make_transcript()
    tr.segments = [Segment(10.0, 22.0, " " + EN_1, None)]  # words lost, e.g. after an edit
    cues = parse_cues(export.render(tr, "srt"), ",")
    check_cues(cues, tr)
    assert cues[0][0] == pytest.approx(10.0) and cues[-1][1] == pytest.approx(22.0)
    assert len(cues) >= 2


def test_edited_text_wins_over_stale_words() -> None:
    tr = make_transcript()
    tr.segments = [tr.segments[1]]
    tr.segments[0].text = " Right, most of it was the staging cluster."
    text = export.render(tr, "srt")
    assert "nobody" not in text and "staging cluster." in text


def test_bare_words_get_spaces_and_chinese_without_words_gets_none() -> None:
    tr = make_transcript()
    bare = [Word(0.0, 0.4, "hello"), Word(0.5, 0.9, "world,"), Word(1.0, 1.4, "again")]
    tr.segments = [Segment(0.0, 1.4, "hello world, again", None, bare), Segment(2.0, 8.0, ZH, None)]
    cues = parse_cues(export.render(tr, "srt"), ",")
    assert cues[0][2] == ["hello world, again"]
    assert "".join(line for c in cues[1:] for line in c[2]) == ZH


def test_long_tokens_and_overlapping_segments() -> None:
    tr = make_transcript()
    url = "https://example.com/" + "a" * 60
    tr.segments = [Segment(0.0, 3.0, f" See {url} now", "S1"), Segment(2.0, 2.5, " Yes.", "S2")]
    cues = parse_cues(export.render(tr, "srt"), ",")
    prev_end = 0.0
    for start, end, lines in cues:
        assert prev_end <= start < end and all(len(line) <= 42 for line in lines)
        prev_end = end


def test_txt_merges_turns_of_one_speaker() -> None:
    tr = make_transcript()
    paras = export.render(tr, "txt").strip().split("\n\n")
    assert len(paras) == 3
    assert paras[0].startswith("Speaker 1: Let's start")
    assert paras[1] == f"Speaker 2: {EN_2} {EN_3}"
    assert paras[2] == f"Speaker 1: {ZH}"
    stamped = export.render(tr, "txt", timestamps=True)
    assert "[00:00:12] Speaker 2: Right," in stamped


def test_txt_without_speakers_has_one_paragraph_per_segment() -> None:
    tr = make_transcript()
    for s in tr.segments:
        s.speaker = None
    paras = export.render(tr, "txt").strip().split("\n\n")
    assert paras == [EN_1, EN_2, EN_3, ZH]


def test_json_round_trips_with_the_design_keys(tmp_path: Path) -> None:
    tr = make_transcript()
    path = export.write(tr, "json", tmp_path / "m.json")
    assert Transcript.load(path) == tr
    d = json.loads(path.read_text(encoding="utf-8"))
    assert set(d) == {"version", "audio", "language", "model", "speakers", "chapters", "turns", "segments"}
    assert set(d["audio"]) == {"path", "duration", "sample_rate"}
    assert set(d["model"]) == {"name", "precision", "device"}
    for seg in d["segments"]:
        assert {"start", "end", "speaker", "text", "words"} <= set(seg)
        for w in seg["words"]:
            assert set(w) == {"start", "end", "word", "probability"}
    assert ZH in path.read_text(encoding="utf-8"), "Chinese stays readable, not \\u-escaped"


def test_json_accepts_numpy_numbers_and_extra_fields() -> None:
    np = pytest.importorskip("numpy")
    tr = make_transcript()
    tr.segments[0].words[0].start = np.float32(0.52)
    tr.audio.duration = np.float64(60.0)
    d = json.loads(export.render(tr, "json"))
    assert d["segments"][0]["words"][0]["start"] == 0.52
    d["speakers"][0]["color"] = "#ff0000"  # the schema allows added fields
    d["chapters"][0]["summary"] = "Costs"
    assert Transcript.from_dict(d).speakers[0].name == "Speaker 1"


def test_utf8_on_disk(tmp_path: Path) -> None:
    for fmt in ("json", "txt", "srt", "vtt"):  # the text formats (RTTM holds no words)
        raw = export.write(make_transcript(), fmt, tmp_path / f"m.{fmt}").read_bytes()
        assert "预算".encode() in raw


def test_unknown_format() -> None:
    with pytest.raises(MinutesError) as e:
        export.render(make_transcript(), "xyz")
    assert str(e.value) == "Unknown output format 'xyz': choose from json, txt, srt, vtt, rttm, docx."
    assert export.render(make_transcript(), "SRT") == export.render(make_transcript(), "srt")


def test_missing_folder(tmp_path: Path) -> None:
    dest = tmp_path / "nope" / "m.srt"
    with pytest.raises(MinutesError) as e:
        export.write(make_transcript(), "srt", dest)
    assert str(e.value) == (
        f"Cannot write '{dest}': the folder does not exist. Choose another folder or free some space."
    )


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("x")
    with pytest.raises(MinutesError, match=r"^Cannot write '.*m\.txt': .*Choose another folder"):
        export.write(make_transcript(), "txt", tmp_path / "notes" / "m.txt")


def test_destination_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(MinutesError, match="it is a folder"):
        export.write(make_transcript(), "txt", tmp_path)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    dest = tmp_path / "m.srt"
    dest.write_text("the good old file", encoding="utf-8")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, failing, full)
    with pytest.raises(MinutesError) as e:
        export.write(make_transcript(), "srt", dest)
    assert str(e.value) == f"Cannot write '{dest}': the disk is full. Choose another folder or free some space."
    assert dest.read_text(encoding="utf-8") == "the good old file"
    assert [p.name for p in tmp_path.iterdir()] == ["m.srt"], "no temp file left behind"


def test_overwrite_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    dest = tmp_path / "m.txt"
    dest.write_text("old")
    dest.chmod(0o640)
    export.write(make_transcript(), "txt", dest)
    assert dest.read_text(encoding="utf-8").startswith("Speaker 1:")
    assert dest.stat().st_mode & 0o777 == 0o640


def test_empty_transcript() -> None:
    tr = make_transcript()
    tr.segments = [Segment(0.0, 1.0, "  ", None)]
    assert export.render(tr, "srt") == ""
    assert export.render(tr, "vtt") == "WEBVTT\n"
    assert export.render(tr, "txt") == ""


def test_random_transcripts_keep_the_subtitle_rules() -> None:
    import random

    rng = random.Random(7)
    vocab = [
        "we",
        "budget,",
        "cloud",
        "hosting.",
        "quarter",
        "approximately",
        "OK?",
        "预算",
        "问题，",
        "云",
        "吗？",
    ]
    segs, t = [], 0.0
    for k in range(60):
        words, start = [], t
        for _ in range(rng.randint(1, 45)):
            d = rng.choice([0.0, 0.1, 0.3, 0.6])
            w = rng.choice(vocab)
            words.append(Word(t, t + d, w if "\u4e00" <= w[0] else " " + w))
            t += d + rng.choice([0.0, 0.05, 0.8])
        text = "".join(w.word for w in words)
        seg = Segment(start, t, text, rng.choice([None, "S1", "S2"]), words if k % 3 else [])
        segs.append(seg)
        t -= rng.choice([0.0, 0.0, 1.0])  # sometimes the next segment overlaps this one
    tr = make_transcript()
    tr.segments = segs
    for fmt, sep in (("srt", ","), ("vtt", ".")):
        cues = parse_cues(export.render(tr, fmt), sep)
        prev_end = 0.0
        for start, end, lines in cues:
            assert prev_end <= start < end and end - start <= 7.0 + 1e-9
            assert 1 <= len(lines) <= 2 and all(0 < len(re.sub(r"^<v [^>]*>|</v>$", "", x)) <= 42 for x in lines)
            prev_end = end
        shown = "".join(strip_label(x) for _, _, lines in cues for x in lines)
        assert re.sub(r"\s", "", shown) == re.sub(
            r"\s", "", "".join(s.text for s in sorted(segs, key=lambda s: s.start))
        )


def test_rttm_one_line_per_speaker_turn() -> None:
    from engine.export import render
    from engine.transcript import AudioInfo, ModelInfo, Segment, Transcript

    t = Transcript(
        AudioInfo("my meeting.wav", 4.0),
        "en",
        ModelInfo("m", "int8", "cpu"),
        segments=[Segment(0.0, 1.0, "hi", "S1"), Segment(1.2, 2.0, "there", "S1"), Segment(2.5, 3.5, "yes", "S2")],
    )
    lines = render(t, "rttm").splitlines()
    assert [ln.split() for ln in lines] == [
        ["SPEAKER", "my_meeting", "1", "0.000", "2.000", "<NA>", "<NA>", "S1", "<NA>", "<NA>"],
        ["SPEAKER", "my_meeting", "1", "2.500", "1.000", "<NA>", "<NA>", "S2", "<NA>", "<NA>"],
    ]


def diarized_transcript() -> Transcript:
    """make_transcript() with the diarization's turns: S2 laughs over S1 at 11.6-12.9 s (overlap),
    and S1 speaks 20.0-24.0 s where no word was transcribed."""
    tr = make_transcript()
    tr.turns = [
        SpeakerTurn(0.41, 12.1, "S1"),
        SpeakerTurn(11.6, 18.55, "S2"),
        SpeakerTurn(20.0, 24.0, "S1"),
        SpeakerTurn(29.9, 36.123, "S1"),
    ]
    return tr


def test_rttm_is_the_diarization_turns_and_survives_the_json(tmp_path: Path) -> None:
    tr = diarized_transcript()
    path = export.write(tr, "json", tmp_path / "m.json")
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["turns"][1] == {"start": 11.6, "end": 18.55, "speaker": "S2"}
    back = Transcript.load(path)
    assert back == tr and back.turns == tr.turns
    expected = [
        ["SPEAKER", "meeting", "1", "0.410", "11.690", "<NA>", "<NA>", "S1", "<NA>", "<NA>"],
        ["SPEAKER", "meeting", "1", "11.600", "6.950", "<NA>", "<NA>", "S2", "<NA>", "<NA>"],  # overlaps S1
        ["SPEAKER", "meeting", "1", "20.000", "4.000", "<NA>", "<NA>", "S1", "<NA>", "<NA>"],  # no words
        ["SPEAKER", "meeting", "1", "29.900", "6.223", "<NA>", "<NA>", "S1", "<NA>", "<NA>"],
    ]
    assert [ln.split() for ln in export.render(tr, "rttm").splitlines()] == expected
    assert export.render(back, "rttm") == export.render(tr, "rttm")
    # a renamed speaker keeps their id in RTTM (names may hold spaces; scorers want ids)
    back.speakers[0].name = "Anya Petrova"
    assert export.render(back, "rttm") == export.render(tr, "rttm")


def test_old_json_without_turns_loads_and_rttm_comes_from_segments() -> None:
    d = json.loads(export.render(make_transcript(), "json"))
    del d["turns"]
    tr = Transcript.from_dict(d)
    assert tr.turns == []
    lines = [ln.split() for ln in export.render(tr, "rttm").splitlines()]
    assert [(x[3], x[4], x[7]) for x in lines] == [
        ("0.500", "11.500", "S1"),
        ("12.400", "6.100", "S2"),
        ("30.000", "6.000", "S1"),
    ]


def test_malformed_turns_are_left_out() -> None:
    d = json.loads(export.render(diarized_transcript(), "json"))
    d["turns"][1] = {"start": "soon", "end": 3, "speaker": "S2"}
    d["turns"].append("S3 at the end")
    assert [t.speaker for t in Transcript.from_dict(d).turns] == ["S1", "S1", "S1"]
    d["turns"] = {"S1": [0, 1]}
    assert Transcript.from_dict(d).turns == []


def test_merge_turns_orders_joins_one_speaker_and_keeps_overlap() -> None:
    from engine.transcript import merge_turns

    turns = [
        SpeakerTurn(5.0, 6.0, "S1"),
        SpeakerTurn(0.0, 2.0004, "S1"),
        SpeakerTurn(2.0, 3.0, "S1"),  # touches the one before: one turn
        SpeakerTurn(2.5, 4.0, "S2"),  # another speaker over it: kept, overlapping
        SpeakerTurn(7.0, 7.0, "S2"),  # empty: dropped
    ]
    assert merge_turns(turns) == [SpeakerTurn(0.0, 3.0, "S1"), SpeakerTurn(2.5, 4.0, "S2"), SpeakerTurn(5.0, 6.0, "S1")]
