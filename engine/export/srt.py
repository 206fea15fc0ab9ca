"""SubRip export, and the cue layout that SRT and WebVTT share.

Raw ASR segments make poor subtitles: they run to several lines and ten seconds. Each
segment is cut into cues of at most two lines of ``MAX_CHARS`` columns and ``MAX_SECONDS``,
at word boundaries timed by the word timestamps, choosing cut points after punctuation or
at pauses and keeping cues evenly filled. Cues never span segments, so an edited segment
maps to its own cues.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from engine.export.txt import speaker_names, text_width
from engine.text import SENTENCE_END, is_no_space_char
from engine.transcript import Segment, Transcript

MAX_CHARS = 42  # columns per line (a CJK character counts as two)
MAX_LINES = 2
MAX_SECONDS = 7.0
MIN_SECONDS = 1.0  # short cues are stretched into the following silence to be readable
MAX_LABEL = 20  # a speaker label longer than this is shortened so text still fits

_CLAUSE_END = set(",;:–—，、；：")
_CLOSING = set(",.!?;:%)]}…，。！？、；：」』）》〉】〕")
_BREAK_BEFORE = {"and", "but", "or", "so", "because", "which", "that", "to", "of", "in", "for", "with"}


@dataclass
class Token:
    """One unbreakable piece of a cue: a word, or one CJK character when words are unknown."""

    start: float
    end: float
    text: str  # no surrounding whitespace
    space: bool  # a space separates it from the token before (when both share a line)


@dataclass
class Cue:
    """One subtitle on screen; the speaker label is kept apart since SRT and VTT show it differently."""

    start: float
    end: float
    lines: list[str]
    speaker: str | None  # display name of the speaker, None when unknown
    label: bool  # the speaker changed: show who talks


def _ends(token: Token, marks: Collection[str]) -> bool:
    """Whether the token ends with one of ``marks``, looking past closing quotes and brackets."""
    bare = token.text.rstrip("\"'”’»)]」』）")
    return bool(bare) and bare[-1] in marks


def _normalize(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _tokens_from_words(seg: Segment) -> list[Token] | None:
    words = [w for w in seg.words if w.word.strip()]
    if not words or _normalize("".join(w.word for w in words)) != _normalize(seg.text):
        return None  # no words, or the text was edited since: the words no longer describe it
    if max(w.end for w in words) <= min(w.start for w in words):
        return None  # a failed alignment stamps every word alike; character counts do better
    # Whisper words carry their own leading space (" hello"); other aligners give bare words.
    spaced = any(w.word[:1].isspace() for w in words[1:])
    tokens: list[Token] = []
    for w in words:
        text = w.word.strip()
        if spaced:
            space = w.word[:1].isspace()
        else:  # bare words: space them like prose, except next to CJK
            space = bool(tokens) and not (is_no_space_char(tokens[-1].text[-1]) or is_no_space_char(text[0]))
        tokens.append(Token(float(w.start), float(w.end), text, space))
    return tokens


def _tokens_from_text(seg: Segment) -> list[Token]:
    """Split the text at spaces and between CJK characters, timed by character count."""
    pieces: list[tuple[str, bool]] = []
    for m in re.finditer(r"(\s*)(\S+)", seg.text):
        first = len(pieces)
        for ch in m.group(2):
            # Punctuation stays with what it follows; a CJK character stands alone.
            if len(pieces) > first and (
                ch in _CLOSING or not (is_no_space_char(ch) or is_no_space_char(pieces[-1][0][-1]))
            ):
                pieces[-1] = (pieces[-1][0] + ch, pieces[-1][1])
            else:
                pieces.append((ch, len(pieces) == first and bool(m.group(1))))
    total = sum(len(p) for p, _ in pieces) or 1
    t, span = float(seg.start), max(0.0, float(seg.end) - float(seg.start))
    tokens = []
    for text, space in pieces:
        d = span * len(text) / total
        tokens.append(Token(t, t + d, text, space))
        t += d
    return tokens


def _split_wide(tokens: list[Token], max_chars: int) -> list[Token]:
    """Cut tokens wider than a line (URLs, long runs without spaces) so every token fits one."""
    out = []
    for tok in tokens:
        if text_width(tok.text) <= max_chars:
            out.append(tok)
            continue
        chunks, cur = [], ""
        for ch in tok.text:
            if cur and text_width(cur + ch) > max_chars:
                chunks.append(cur)
                cur = ""
            cur += ch
        chunks.append(cur)
        t, per = tok.start, (tok.end - tok.start) / len(tok.text)
        for i, c in enumerate(chunks):
            out.append(Token(t, t + per * len(c), c, tok.space if i == 0 else False))
            t += per * len(c)
    return out


def segment_tokens(seg: Segment, max_chars: int = MAX_CHARS) -> list[Token]:
    """A segment's tokens with times that never run backwards, whatever the aligner gave."""
    tokens = _tokens_from_words(seg) or _tokens_from_text(seg)
    tokens = _split_wide(tokens, max_chars)
    prev_start = 0.0
    for tok in tokens:
        tok.start = max(tok.start, prev_start, 0.0)
        tok.end = max(tok.end, tok.start)
        prev_start = tok.start
    return tokens


def _sep(prev: Token, tok: Token) -> str:
    """The separator to print between two tokens on one line."""
    if not tok.space or tok.text[0] in _CLOSING:
        return ""
    if is_no_space_char(prev.text[-1]) and is_no_space_char(tok.text[0]):
        return ""  # Whisper sometimes puts a stray space between Chinese words
    return " "


def join_tokens(tokens: list[Token]) -> str:
    """Tokens as one line of text: single spaces between words, none between CJK characters."""
    out = []
    for i, tok in enumerate(tokens):
        if i:
            out.append(_sep(tokens[i - 1], tok))
        out.append(tok.text)
    return "".join(out)


def _line_break_cost(tokens: list[Token], k: int) -> float:
    """How bad it is to end a line (or cue) after tokens[k - 1]: punctuation and pauses are good."""
    left = tokens[k - 1]
    if _ends(left, SENTENCE_END):
        cost = 0.0
    elif _ends(left, _CLAUSE_END):
        cost = 0.3
    elif tokens[k].text.lower() in _BREAK_BEFORE:
        cost = 0.7
    else:
        cost = 1.0
    if tokens[k].start - left.end >= 0.3:
        cost = max(0.0, cost - 0.5)
    return cost


class _Widths:
    """Prefix sums of token and separator widths: the width of any run of tokens in O(1)."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tok = [0]
        self.sep = [0, 0]
        for k, t in enumerate(tokens):
            self.tok.append(self.tok[-1] + text_width(t.text))
            if k:
                self.sep.append(self.sep[-1] + len(_sep(tokens[k - 1], t)))

    def __call__(self, i: int, j: int) -> int:
        """Width of tokens[i:j] printed on one line."""
        if j <= i:
            return 0
        return self.tok[j] - self.tok[i] + self.sep[j] - self.sep[i + 1]


def layout(tokens: list[Token], max_chars: int = MAX_CHARS, offset: int = 0) -> list[str] | None:
    """Lay tokens out in at most two balanced lines, or None when they do not fit.

    ``offset`` is the width already taken on the first line by a speaker label; with a label,
    the first line may hold the label alone.
    """
    width = _Widths(tokens)
    n = len(tokens)
    if offset + width(0, n) <= max_chars:
        return [join_tokens(tokens)]
    best: tuple[float, int] | None = None
    for k in range(0 if offset else 1, n):
        w1, w2 = offset + width(0, k), width(k, n)
        if w1 > max_chars:
            break
        if w2 > max_chars:
            continue
        cost = 3.0 if k == 0 else abs(w1 - w2) / max_chars + _line_break_cost(tokens, k)
        if best is None or cost < best[0]:
            best = (cost, k)
    if best is None:
        return None
    return [join_tokens(tokens[: best[1]]), join_tokens(tokens[best[1] :])]


def _segment_cues(
    tokens: list[Token], max_chars: int, max_seconds: float, offset: int
) -> list[tuple[int, int, list[str]]]:
    """Cut a segment's tokens into cues by dynamic programming: (first, end, lines) per cue.

    Every cue costs 1 (fewer cues are easier to read), plus the badness of its cut point,
    plus how far it falls short of full, squared, so a segment splits into even halves
    rather than a full cue and a one-word orphan.
    """
    n = len(tokens)
    width = _Widths(tokens)
    inf = float("inf")
    best: list[float] = [0.0] + [inf] * n
    back = [0] * (n + 1)
    for i in range(n):
        if best[i] == inf:
            continue
        off = offset if i == 0 else 0
        # The fullest first line starting at i; tokens[i:j] fit in two lines iff the rest
        # after it fits in one (a fuller first line only makes the second shorter).
        k = i
        while k < n and off + width(i, k + 1) <= max_chars:
            k += 1
        if k == i and not off:
            k = i + 1  # cannot happen: every token fits a line (see _split_wide)
        for j in range(i + 1, n + 1):
            duration = tokens[j - 1].end - tokens[i].start
            if j - i > 1 and duration > max_seconds:
                break
            w = off + width(i, j)
            if w > max_chars and width(min(k, j), j) > max_chars:
                break
            fill = max(w / (MAX_LINES * max_chars), duration / max_seconds)
            cost = best[i] + 1.0 + 2.0 * (1.0 - min(fill, 1.0)) ** 2
            if j < n:
                cost += 2.0 * _line_break_cost(tokens, j)
            if cost < best[j]:
                best[j], back[j] = cost, i
    cues: list[tuple[int, int, list[str]]] = []
    j = n
    while j > 0:
        i = back[j]
        lines = layout(tokens[i:j], max_chars, offset if i == 0 else 0)
        assert lines is not None, "the search only keeps cues that fit"
        cues.append((i, j, lines))
        j = i
    cues.reverse()
    return cues


def _label(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1].rstrip() + "…"


def build_cues(
    transcript: Transcript,
    label_in_text: bool = True,
    max_chars: int = MAX_CHARS,
    max_seconds: float = MAX_SECONDS,
) -> list[Cue]:
    """The transcript as readable subtitle cues, in order and never overlapping.

    ``label_in_text``: the speaker label is printed in the cue text ("[Name] ..."), so it
    takes room on the first line; WebVTT puts it in a voice tag that takes none.
    """
    names = speaker_names(transcript)
    cues: list[Cue] = []
    prev_speaker: str | None = None
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        tokens = segment_tokens(seg, max_chars)
        if not tokens:
            continue
        name = _label(names.get(seg.speaker, seg.speaker)) if seg.speaker is not None else None
        label = name is not None and seg.speaker != prev_speaker
        prev_speaker = seg.speaker
        offset = text_width(name) + 3 if label and label_in_text and name else 0  # "[Name] "
        for i, j, lines in _segment_cues(tokens, max_chars, max_seconds, offset):
            cues.append(Cue(tokens[i].start, tokens[j - 1].end, lines, name, label and i == 0))
    return _settle(cues, max_seconds)


def _settle(cues: list[Cue], max_seconds: float) -> list[Cue]:
    """Whole milliseconds, in order, no overlap; short cues stretched into the silence after."""
    raw = [(round(c.start * 1000), round(c.end * 1000)) for c in cues]
    prev_end = 0
    for k, cue in enumerate(cues):
        start = max(raw[k][0], prev_end, 0)
        end = max(raw[k][1], start + 1)
        next_start = raw[k + 1][0] if k + 1 < len(cues) else None
        want = start + round(MIN_SECONDS * 1000)
        if end < want:
            end = want if next_start is None else max(end, min(want, next_start))
        end = min(end, start + round(max_seconds * 1000))
        cue.start, cue.end = start / 1000, end / 1000
        prev_end = end
    return cues


def timestamp(seconds: float, sep: str = ",") -> str:
    """HH:MM:SS,mmm (SRT) or, with ``sep='.'``, HH:MM:SS.mmm (WebVTT)."""
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def render(transcript: Transcript) -> str:
    """SubRip text; ``[Name]`` leads the first cue of each new speaker turn."""
    blocks = []
    for n, cue in enumerate(build_cues(transcript, label_in_text=True), 1):
        lines = list(cue.lines)
        if cue.label and cue.speaker:
            lines[0] = f"[{cue.speaker}] {lines[0]}".rstrip()
        blocks.append(f"{n}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n" + "\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""
