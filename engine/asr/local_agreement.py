"""LocalAgreement: which words of a live hypothesis are final. Pure: no audio, no model.

Whisper re-reads the open window every few hundred milliseconds and may revise any word. A
word is confirmed when two successive hypotheses agree on it and enough audio follows it
(``lookahead``); in crosstalk agreement may never come, so a word that ended
``confirm_after`` seconds ago is confirmed as the latest hypothesis has it; a window that
grows past ``max_window`` seconds without agreement has its old words confirmed by force.
Windows are kept short by cutting them after a confirmed sentence end (:meth:`cut_point`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.text import ends_sentence


@dataclass
class StreamWord:
    start: float  # absolute seconds
    end: float
    word: str  # with its leading space, as the tokenizer writes it
    probability: float
    tokens: list[int] = field(default_factory=list)

    def key(self) -> str:
        """What two readings must share to agree: letters and digits, any case."""
        k = "".join(c for c in self.word.lower() if c.isalnum())
        return k or self.word.strip()


def agreement(previous: list[StreamWord], current: list[StreamWord]) -> int:
    """How many leading words two successive hypotheses share."""
    n = 0
    for a, b in zip(previous, current):
        if a.key() != b.key():
            break
        n += 1
    return n


@dataclass(frozen=True)
class LocalAgreement:
    lookahead: float = 0.5  # a word is confirmed by agreement only once this much audio follows it
    confirm_after: float = 1.6  # a word that ended this long ago is confirmed as read (0: never)
    max_window: float = 20.0  # beyond this, words older than ``force_age`` are confirmed by force
    force_age: float = 5.0
    trim: float = 8.0  # windows longer than this are cut after a confirmed sentence end

    def confirmed(self, previous: list[StreamWord], current: list[StreamWord], now: float) -> tuple[int, bool]:
        """How many leading words of ``current`` to confirm at ``now`` (s), and whether age
        (not agreement) decided some of them."""
        n = agreement(previous, current)
        while n and current[n - 1].end > now - self.lookahead:
            n -= 1  # Whisper revises words near the end of the audio: wait for some right context
        if self.confirm_after <= 0:
            return n, False
        aged = n
        while aged < len(current) and current[aged].end <= now - self.confirm_after:
            aged += 1
        return max(n, aged), aged > n

    def forced(self, tail: list[StreamWord], now: float, window_seconds: float) -> int:
        """How many leading unconfirmed words to confirm because the window grew too long."""
        if window_seconds <= self.max_window:
            return 0
        n = 0
        while n < len(tail) and tail[n].end <= now - self.force_age:
            n += 1
        return n

    def cut_point(
        self, committed: list[StreamWord], tail: list[StreamWord], window_seconds: float
    ) -> tuple[float, int] | None:
        """Where to start the window afresh: (time in s, index of the first committed word kept),
        after the last confirmed sentence end once the window is longer than ``trim``, after the
        last confirmed word at 1.5 x ``trim``; None: keep the window."""
        if window_seconds <= self.trim or not committed:
            return None
        cut_at = next((i for i in range(len(committed) - 1, -1, -1) if ends_sentence(committed[i].word)), None)
        if cut_at is None and window_seconds > 1.5 * self.trim:
            cut_at = len(committed) - 1
        if cut_at is None:
            return None
        w = committed[cut_at]
        following = (committed[cut_at + 1 :] + tail)[:1]
        cut = w.end if not following else (w.end + max(w.end, following[0].start)) / 2
        return cut, cut_at + 1


def tail_text(text: str, chars: int) -> str:
    """The last ``chars`` characters of text, starting at a word boundary."""
    if len(text) <= chars:
        return text
    cut = text[-chars:]
    space = cut.find(" ")
    return cut[space:] if 0 <= space < len(cut) - 1 else cut
