"""Clips to tensors: targets, log-mel batches trimmed to the longest clip, dynamic batches.

The features are ``engine.asr.features.log_mel`` (numpy), what the exported encoder sees at
inference, so a fine-tuned model is trained on the numbers it will be run on. Batches are built
by total audio duration rather than by count, so a batch of short clips and a batch of long ones
cost about the same time and memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.asr.features import HOP_LENGTH, N_FRAMES, log_mel
from engine.asr.tokenizer import Tokenizer
from engine.audio import SAMPLE_RATE
from engine.audio.decode import load_audio
from engine.errors import MinutesError
from engine.training.manifest import Utterance

AugmentKey = tuple[int, int, int]  # (seed, epoch, utterance index): the same key gives the same change
AugmentAudio = Callable[[np.ndarray, AugmentKey], np.ndarray]
AugmentMel = Callable[[np.ndarray, int, AugmentKey], np.ndarray]
IGNORE = -100  # target positions that carry no loss (the SOT prefix, padding)
SORT_WINDOW = 256  # clips sorted by length within windows of this many: little padding, still shuffled
# Trimmed input ends at least a second after the longest clip and lasts at least 10 s: audio cut at
# its last word, or a window of 2-5 s, leaves Whisper base no silence to end on and greedy decoding
# repeats the last phrase (measured: 44% WER on four 5-9 s clips cut exactly, 306% on six 1-2 s
# clips with a 1 s margin, 135% at 5 s; at 7 s and at 30 s the same 24%).
TRIM_MARGIN_FRAMES = 100
TRIM_MIN_FRAMES = 1000
CACHE_SECONDS = 4 * 3600  # keep decoded audio in memory for data sets up to this long


@dataclass
class Batch:
    mel: torch.Tensor  # [B, n_mels, T]
    tokens: torch.Tensor  # [B, L] decoder input (teacher forcing)
    targets: torch.Tensor  # [B, L] next tokens, IGNORE where no loss
    indices: list[int]

    def to(self, device: torch.device) -> Batch:
        return Batch(self.mel.to(device), self.tokens.to(device), self.targets.to(device), self.indices)


def target_sequence(tokenizer: Tokenizer, text: str, language: str) -> tuple[list[int], int]:
    """Whisper's SOT sequence for ``language`` + <|notimestamps|> + the text + EOT, and the prefix length."""
    prefix = tokenizer.sot_sequence(language) + [tokenizer.no_timestamps]
    return prefix + tokenizer.encode(" " + text.strip()) + [tokenizer.eot], len(prefix)


class ClipData:
    """A manifest's usable clips: their token sequences now, their audio when first asked (then cached)."""

    def __init__(
        self,
        utterances: list[Utterance],
        tokenizer: Tokenizer,
        n_mels: int,
        n_text_ctx: int,
        max_clip_seconds: float = 30.0,
        default_language: str = "en",
    ):
        self.tokenizer, self.n_mels, self.max_clip_seconds = tokenizer, n_mels, max_clip_seconds
        self.utterances: list[Utterance] = []
        self.sequences: list[list[int]] = []
        self.prefix_lengths: list[int] = []
        self.skipped: list[tuple[Utterance, str]] = []
        for u in utterances:
            seq, prefix = target_sequence(tokenizer, u.text, u.language or default_language)
            if u.duration > max_clip_seconds:
                self.skipped.append((u, f"longer than {max_clip_seconds:g} s"))
            elif len(seq) - 1 > n_text_ctx:
                self.skipped.append((u, f"text longer than {n_text_ctx} tokens"))
            else:
                self.utterances.append(u)
                self.sequences.append(seq)
                self.prefix_lengths.append(prefix)
        self.cache: dict[int, np.ndarray] | None = {} if self.duration <= CACHE_SECONDS else None

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def durations(self) -> list[float]:
        return [u.duration for u in self.utterances]

    @property
    def duration(self) -> float:
        return sum(self.durations)

    def audio(self, i: int) -> np.ndarray:
        if self.cache is not None and i in self.cache:
            return self.cache[i]
        try:
            audio = load_audio(self.utterances[i].audio_filepath)[: int(self.max_clip_seconds * SAMPLE_RATE)]
        except MinutesError as e:
            raise MinutesError(f"Training clip '{self.utterances[i].audio_filepath}': {e}") from e
        if self.cache is not None:
            self.cache[i] = audio
        return audio

    def batch(
        self,
        indices: list[int],
        trim: bool,
        key: tuple[int, int] = (0, 0),
        augment_audio: AugmentAudio | None = None,
        augment_mel: AugmentMel | None = None,
    ) -> Batch:
        """Features and teacher-forcing targets of ``indices``; ``key`` = (seed, epoch) for augmentation.

        With ``trim`` the mel is as long as the longest clip plus a second of silence, at least 10 s
        (rounded up to an even frame count, since the encoder's second convolution halves it);
        otherwise Whisper's full 30 s (3000 frames)."""
        audios = []
        for i in indices:
            a = self.audio(i)
            if augment_audio is not None:
                a = np.asarray(augment_audio(a, (*key, i)), dtype=np.float32)
            audios.append(a)
        frames = [min(math.ceil(len(a) / HOP_LENGTH), N_FRAMES) for a in audios]
        longest = max(max(frames) + TRIM_MARGIN_FRAMES, TRIM_MIN_FRAMES)
        t = min(longest + longest % 2, N_FRAMES) if trim else N_FRAMES
        mels = []
        for i, a, n in zip(indices, audios, frames):
            m = log_mel(a, self.n_mels, t)
            if augment_mel is not None:
                m = np.asarray(augment_mel(m, n, (*key, i)), dtype=np.float32)
            mels.append(m)
        seqs = [self.sequences[i] for i in indices]
        length = max(len(s) for s in seqs) - 1
        tokens = torch.full((len(indices), length), self.tokenizer.eot, dtype=torch.long)
        targets = torch.full((len(indices), length), IGNORE, dtype=torch.long)
        for row, (i, s) in enumerate(zip(indices, seqs)):
            tokens[row, : len(s) - 1] = torch.tensor(s[:-1])
            p = self.prefix_lengths[i]
            targets[row, p - 1 : len(s) - 1] = torch.tensor(s[p:])  # the text and EOT
        return Batch(torch.from_numpy(np.stack(mels)), tokens, targets, list(indices))


def pack(indices: list[int], durations: list[float], batch_seconds: float) -> list[list[int]]:
    """Greedy packing in the given order: a new batch whenever the next clip would pass ``batch_seconds``."""
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0.0
    for i in indices:
        if current and total + durations[i] > batch_seconds:
            batches.append(current)
            current, total = [], 0.0
        current.append(i)
        total += durations[i]
    if current:
        batches.append(current)
    return batches


def epoch_batches(
    durations: list[float], batch_seconds: float, seed: int, epoch: int, rank: int = 0, world: int = 1
) -> list[list[int]]:
    """This rank's batches of one epoch: shuffled by (seed, epoch), lengths sorted within windows,
    packed by duration, the batches shuffled again, then dealt out so that each of ``world`` ranks
    gets a disjoint share of the same count (the remainder waits for the next epoch's shuffle)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(durations)).tolist()
    batches: list[list[int]] = []
    for start in range(0, len(order), SORT_WINDOW):
        window = sorted(order[start : start + SORT_WINDOW], key=lambda i: durations[i])
        batches += pack(window, durations, batch_seconds)
    batches = [batches[j] for j in rng.permutation(len(batches))]
    per_rank = len(batches) // world
    if per_rank == 0:
        raise MinutesError(
            f"Too little training audio for {world} processes: {len(batches)} batch(es) of {batch_seconds:g} s. "
            "Lower batch_seconds or use fewer processes."
        )
    return batches[rank : per_rank * world : world]


def eval_batches(durations: list[float], batch_seconds: float) -> list[list[int]]:
    """Dev batches: sorted by length (least padding), no shuffling."""
    return pack(sorted(range(len(durations)), key=lambda i: durations[i]), durations, batch_seconds)
