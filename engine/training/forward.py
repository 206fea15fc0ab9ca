"""Whisper's training forward: a trimmed encoder, a full-sequence causal decoder, greedy decoding.

``engine.asr.model`` is written for export (a step-wise decoder over a cache, a 30 s encoder).
Training wants the whole target at once (teacher forcing) and an encoder fed only the audio
present: its conv stem runs on the trimmed mel and the positional table is sliced to the
frames there, as the live variable-length encoder does. With 3000 frames this is exactly
``Whisper.forward``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from engine.asr.model import MultiHeadAttention, ResidualAttentionBlock, Whisper


def _encoder_block(blk: ResidualAttentionBlock, x: Tensor) -> Tensor:
    x = x + blk.attn(blk.attn_ln(x))
    return x + blk.mlp(blk.mlp_ln(x))


def _decoder_block(blk: ResidualAttentionBlock, x: Tensor, xa: Tensor, mask: Tensor) -> Tensor:
    x = x + blk.attn(blk.attn_ln(x), mask=mask)
    x = x + blk.cross_attn(blk.cross_attn_ln(x), xa)
    return x + blk.mlp(blk.mlp_ln(x))


def _attend(attn: MultiHeadAttention, x: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """Attention of ``x``'s queries over keys/values already in heads form [B, H, S, D] (a cache)."""
    q = attn.heads(attn.query(x))
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    return attn.out(attn.merge(torch.softmax(scores, dim=-1) @ v))


class TrainForward(nn.Module):
    """``forward(mel, tokens) -> logits``; wraps (does not copy) a Whisper, so DDP can wrap this."""

    def __init__(self, model: Whisper, freeze_encoder: bool = False, grad_checkpointing: bool = False):
        super().__init__()
        self.model = model
        self.freeze_encoder = freeze_encoder
        self.grad_checkpointing = grad_checkpointing

    def _run(self, fn, *args: Tensor) -> Tensor:
        if self.grad_checkpointing and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def encode(self, mel: Tensor) -> Tensor:
        """Audio features [B, T/2, d] of a mel [B, n_mels, T] of any even T up to 3000."""
        enc = self.model.encoder
        x = F.gelu(enc.conv1(mel))
        x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
        x = x + enc.positional_embedding[: x.shape[1]].to(x.dtype)
        for blk in enc.blocks:
            x = self._run(lambda h, b=blk: _encoder_block(b, h), x)
        return enc.ln_post(x)

    def decode(self, tokens: Tensor, xa: Tensor) -> Tensor:
        """Logits [B, L, V] for every position of ``tokens`` [B, L] (causal: position i sees 0..i)."""
        dec = self.model.decoder
        n = tokens.shape[1]
        x = dec.token_embedding(tokens) + dec.positional_embedding[:n]
        mask = torch.full((n, n), float("-inf"), device=tokens.device).triu_(1)
        for blk in dec.blocks:
            x = self._run(lambda h, a, m, b=blk: _decoder_block(b, h, a, m), x, xa, mask)
        return dec.ln(x) @ dec.token_embedding.weight.T.to(x.dtype)

    def forward(self, mel: Tensor, tokens: Tensor) -> Tensor:
        if self.freeze_encoder:
            with torch.no_grad():
                xa = self.encode(mel)
        else:
            xa = self.encode(mel)
        return self.decode(tokens, xa)

    def _decode_step(self, tokens: Tensor, past: int, cache: list[list[Tensor]]) -> Tensor:
        """Logits of the last of ``tokens`` (positions past..past+n), growing each layer's cache
        [self k, self v, audio k, audio v] by the new positions: linear, not quadratic, in length."""
        dec = self.model.decoder
        n = tokens.shape[1]
        x = dec.token_embedding(tokens) + dec.positional_embedding[past : past + n]
        mask = torch.full((n, past + n), float("-inf"), device=tokens.device).triu_(past + 1)
        for blk, layer in zip(dec.blocks, cache):
            a, h = blk.attn, blk.attn_ln(x)
            k, v = a.heads(a.key(h)), a.heads(a.value(h))
            if past:
                k, v = torch.cat([layer[0], k], dim=2), torch.cat([layer[1], v], dim=2)
            layer[0], layer[1] = k, v
            x = x + _attend(a, h, k, v, mask)
            x = x + _attend(blk.cross_attn, blk.cross_attn_ln(x), layer[2], layer[3])
            x = x + blk.mlp(blk.mlp_ln(x))
        return dec.ln(x[:, -1]) @ dec.token_embedding.weight.T.to(x.dtype)

    @torch.no_grad()
    def greedy(
        self,
        mel: Tensor,
        prefix: Tensor,
        max_new: list[int],
        eot: int,
        suppress: Sequence[int] = (),
        blank: Sequence[int] = (),
    ) -> list[list[int]]:
        """Greedy text tokens (no specials, no timestamps) of each row, up to ``max_new[row]`` or EOT.

        ``suppress`` is never chosen and ``blank`` never first, as the app's decoder does, so the
        dev WER seen while training is the one the exported model gives. A short loop with a
        key/value cache (the audio's computed once): without it, recomputing every position each
        token makes a dev evaluation of Whisper base minutes long on a CPU."""
        xa = self.encode(mel)
        cache = [
            [xa, xa, c.heads(c.key(xa)), c.heads(c.value(xa))]
            for c in (b.cross_attn for b in self.model.decoder.blocks)
        ]
        limit = self.model.dims.n_text_ctx
        tokens, rows = prefix, prefix.shape[0]
        step_in, past = prefix, 0
        out: list[list[int]] = [[] for _ in range(rows)]
        done = [m <= 0 for m in max_new]
        while not all(done) and tokens.shape[1] < limit:
            logits = self._decode_step(step_in, past, cache).float()
            past += step_in.shape[1]
            logits[:, eot + 1 :] = float("-inf")  # text or EOT only
            if suppress:
                logits[:, list(suppress)] = float("-inf")
            if blank and past == prefix.shape[1]:
                logits[:, list(blank)] = float("-inf")
            nxt = logits.argmax(-1)
            for r in range(rows):
                if done[r]:
                    continue
                if int(nxt[r]) == eot:
                    done[r] = True
                else:
                    out[r].append(int(nxt[r]))
                    done[r] = len(out[r]) >= max_new[r]
            step_in = nxt[:, None]
            tokens = torch.cat([tokens, step_in], dim=1)
        return out
