"""The live confirmation policy on made-up hypotheses: no audio, no model."""

from __future__ import annotations

from engine.asr.decoding import repeats
from engine.asr.local_agreement import LocalAgreement, StreamWord, agreement, tail_text


def words(text: str, start: float = 0.0, step: float = 0.5) -> list[StreamWord]:
    """One word every ``step`` seconds, each lasting 0.4 s."""
    return [StreamWord(start + i * step, start + i * step + 0.4, " " + w, 0.9) for i, w in enumerate(text.split())]


def test_two_readings_agree_on_their_common_start_whatever_the_case_and_punctuation():
    a = words("we will meet on Tuesday at")
    b = words("We will meet, on Thursday at noon")
    assert agreement(a, b) == 4  # "we will meet on"; Tuesday/Thursday differ


def test_words_near_the_end_of_the_audio_wait_for_right_context():
    policy = LocalAgreement(lookahead=0.5, confirm_after=0.0)
    prev = words("the budget for next year")
    cur = words("the budget for next year is")
    # words end at 0.4, 0.9, 1.4, 1.9, 2.4; at 2.6 s only those ending by 2.1 s are final
    assert policy.confirmed(prev, cur, now=2.6) == (4, False)
    assert policy.confirmed(prev, cur, now=5.0) == (5, False)


def test_a_word_revised_again_and_again_is_confirmed_once_it_is_old():
    policy = LocalAgreement(lookahead=0.5, confirm_after=1.6)
    prev = words("Kestrova said so")
    cur = words("Kestrover said so")  # crosstalk: the readings never agree on the first word
    assert policy.confirmed(prev, cur, now=1.5) == (0, False)
    n, aged = policy.confirmed(prev, cur, now=2.6)  # the first two ended 1.6 s ago or more
    assert (n, aged) == (2, True)


def test_a_window_without_agreement_confirms_its_old_words_by_force():
    policy = LocalAgreement(max_window=20.0, force_age=5.0)
    tail = words("one two three four five six", start=10.0, step=2.0)
    assert policy.forced(tail, now=21.0, window_seconds=15.0) == 0  # short enough
    assert policy.forced(tail, now=21.0, window_seconds=21.0) == 3  # ended by 16 s: 10.4, 12.4, 14.4


def test_long_windows_are_cut_after_the_last_confirmed_sentence_end():
    policy = LocalAgreement(trim=8.0)
    committed = words("That is settled. Now the next point is", step=1.0)
    tail = words("hiring", start=8.0)
    assert policy.cut_point(committed, tail, window_seconds=6.0) is None
    at, keep_from = policy.cut_point(committed, tail, window_seconds=9.0)
    assert keep_from == 3  # "Now" starts the new window
    assert 2.4 <= at <= 3.0  # between "settled." (ends 2.4) and "Now" (starts 3.0)
    # no sentence end at all: cut after the last confirmed word once the window is 1.5 x trim
    plain = words("and then and then and then", step=1.0)
    assert policy.cut_point(plain, [], window_seconds=10.0) is None
    assert policy.cut_point(plain, [], window_seconds=13.0)[1] == len(plain)


def test_a_decoding_loop_is_seen_when_the_last_tokens_repeat():
    assert repeats([1, 2, 3, 4, 5, 1, 2, 3, 4], new=4, n=4)
    assert not repeats([1, 2, 3, 4, 5, 1, 2, 3, 9], new=4, n=4)
    assert not repeats([1, 2, 3, 4, 5, 1, 2, 3, 4], new=3, n=4)  # part of the run was forced, not read


def test_the_prompt_keeps_the_end_of_the_text_from_a_word_boundary():
    assert tail_text("short", 200) == "short"
    assert tail_text(" alpha beta gamma delta", 12) == " gamma delta"


def test_agreement_and_loop_helpers():
    from functools import partial

    from engine.asr.decoding import repeats
    from engine.asr.local_agreement import StreamWord
    from engine.asr.local_agreement import agreement as _agreement
    from engine.asr.local_agreement import tail_text as _tail_text
    from engine.asr.streaming import REPEAT_TOKENS

    _repeats = partial(repeats, n=REPEAT_TOKENS)  # (moved from tests/test_live.py)

    def ws(text):
        return [StreamWord(i, i + 1, " " + w, 1.0) for i, w in enumerate(text.split())]

    assert _agreement(ws("so my fellow"), ws("so my Fellow, Americans")) == 3
    assert _agreement(ws("so my"), ws("and so my")) == 0
    assert _repeats([1, 2, 3, 4, 5, 9, 2, 3, 4, 5], new=5)
    assert not _repeats([1, 2, 3, 4, 5, 6, 7, 8], new=4)
    assert _tail_text("one two three four", 9) == " four"
