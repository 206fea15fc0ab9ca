"""Whisper in PyTorch: a compact model with OpenAI's state-dict names.

Used to convert weights to ONNX and to train; transcription itself runs the exported ONNX
graphs and never imports this module. The decoder is written for export: one call is one
decoding step over an explicit key/value cache, with beams reordered inside the graph and
beams of one audio window sharing that window's cross-attention keys/values (no copies).

Cache layouts (L layers, H heads, D head size):
  cross_k [L, W, H, D, 1500] (pre-transposed), cross_v [L, W, H, 1500, D] for W windows;
  self_k  [L, B, H, D, T]    (pre-transposed), self_v  [L, B, H, T, D]    for B = W * beams rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class ModelDims:
    n_mels: int = 80
    n_audio_ctx: int = 1500
    n_audio_state: int = 512
    n_audio_head: int = 8
    n_audio_layer: int = 6
    n_vocab: int = 51865
    n_text_ctx: int = 448
    n_text_state: int = 512
    n_text_head: int = 8
    n_text_layer: int = 6

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> Tensor:
    """Whisper's fixed encoder positions (used when a checkpoint does not store them)."""
    log_inc = math.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-log_inc * torch.arange(channels // 2))
    t = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class MultiHeadAttention(nn.Module):
    def __init__(self, n_state: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_state, n_state)
        self.key = nn.Linear(n_state, n_state, bias=False)
        self.value = nn.Linear(n_state, n_state)
        self.out = nn.Linear(n_state, n_state)

    def heads(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_head, -1).permute(0, 2, 1, 3)  # [B, H, T, D]

    def merge(self, x: Tensor) -> Tensor:
        b, h, t, d = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, t, h * d)

    def forward(self, x: Tensor, xa: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        """Full-sequence attention (self when ``xa`` is None, else over the audio)."""
        src = x if xa is None else xa
        q, k, v = self.heads(self.query(x)), self.heads(self.key(src)), self.heads(self.value(src))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores + mask
        return self.out(self.merge(torch.softmax(scores, dim=-1) @ v))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, n_state: int, n_head: int, cross_attention: bool = False):
        super().__init__()
        self.attn = MultiHeadAttention(n_state, n_head)
        self.attn_ln = nn.LayerNorm(n_state)
        self.cross_attn = MultiHeadAttention(n_state, n_head) if cross_attention else None
        self.cross_attn_ln = nn.LayerNorm(n_state) if cross_attention else None
        self.mlp = nn.Sequential(nn.Linear(n_state, 4 * n_state), nn.GELU(), nn.Linear(4 * n_state, n_state))
        self.mlp_ln = nn.LayerNorm(n_state)


class AudioEncoder(nn.Module):
    def __init__(self, d: ModelDims):
        super().__init__()
        self.conv1 = nn.Conv1d(d.n_mels, d.n_audio_state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d.n_audio_state, d.n_audio_state, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(d.n_audio_ctx, d.n_audio_state))
        self.blocks = nn.ModuleList(
            [ResidualAttentionBlock(d.n_audio_state, d.n_audio_head) for _ in range(d.n_audio_layer)]
        )
        self.ln_post = nn.LayerNorm(d.n_audio_state)

    def forward(self, mel: Tensor) -> Tensor:
        x = F.gelu(self.conv1(mel))
        x = F.gelu(self.conv2(x))
        x = x.permute(0, 2, 1) + self.positional_embedding
        for blk in self.blocks:
            x = x + blk.attn(blk.attn_ln(x))
            x = x + blk.mlp(blk.mlp_ln(x))
        return self.ln_post(x)


class TextDecoder(nn.Module):
    def __init__(self, d: ModelDims):
        super().__init__()
        self.token_embedding = nn.Embedding(d.n_vocab, d.n_text_state)
        self.positional_embedding = nn.Parameter(torch.empty(d.n_text_ctx, d.n_text_state))
        self.blocks = nn.ModuleList(
            [ResidualAttentionBlock(d.n_text_state, d.n_text_head, cross_attention=True) for _ in range(d.n_text_layer)]
        )
        self.ln = nn.LayerNorm(d.n_text_state)

    def forward(self, tokens: Tensor, xa: Tensor) -> Tensor:
        """Plain full-sequence forward (training, reference checks): logits [B, T, V]."""
        t = tokens.shape[1]
        x = self.token_embedding(tokens) + self.positional_embedding[:t]
        mask = torch.full((t, t), float("-inf"), device=tokens.device).triu_(1)
        for blk in self.blocks:
            x = x + blk.attn(blk.attn_ln(x), mask=mask)
            x = x + blk.cross_attn(blk.cross_attn_ln(x), xa)
            x = x + blk.mlp(blk.mlp_ln(x))
        x = self.ln(x)
        return x @ self.token_embedding.weight.T


class Whisper(nn.Module):
    def __init__(self, dims: ModelDims):
        super().__init__()
        self.dims = dims
        self.encoder = AudioEncoder(dims)
        self.decoder = TextDecoder(dims)
        # The decoder heads whose cross-attention follows the speech (word timestamps), as a mask
        # [n_text_layer, n_text_head]. A buffer, so that state_dict() carries it: a fine-tuned model
        # saved and loaded again keeps its word timestamps. Empty until a loader sets it.
        self.register_buffer("alignment_mask", torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool))
        self._register_load_state_dict_pre_hook(self._keep_mask_if_absent)

    @property
    def alignment_heads(self) -> list[tuple[int, int]]:
        """(layer, head) pairs of ``alignment_mask``, in layer then head order."""
        return [(int(layer), int(head)) for layer, head in self.alignment_mask.nonzero().tolist()]

    @alignment_heads.setter
    def alignment_heads(self, heads) -> None:
        mask = torch.zeros_like(self.alignment_mask)
        for layer, head in heads:
            if not (0 <= layer < mask.shape[0] and 0 <= head < mask.shape[1]):
                raise ValueError(f"Alignment head ({layer}, {head}) is outside the decoder's {tuple(mask.shape)}.")
            mask[layer, head] = True
        self.alignment_mask.copy_(mask)

    def _keep_mask_if_absent(self, state_dict, prefix, *_args) -> None:
        """State dicts from before the mask (OpenAI checkpoints, converted CTranslate2 weights) load
        as before, strict or not: the mask stays as it is, for the loader to set."""
        state_dict.setdefault(prefix + "alignment_mask", self.alignment_mask.clone())

    def forward(self, mel: Tensor, tokens: Tensor) -> Tensor:
        return self.decoder(tokens, self.encoder(mel))


class EncoderExport(nn.Module):
    """mel [W, 80, 3000] -> per decoder layer: cross_k_i [W, H, D, 1500], cross_v_i [W, H, 1500, D].

    One tensor per layer (not one stacked tensor): ONNX Runtime copies on slicing, and the
    decoder reads these on every step.
    """

    def __init__(self, model: Whisper):
        super().__init__()
        self.model = model

    def forward(self, mel: Tensor) -> tuple[Tensor, ...]:
        xa = self.model.encoder(mel)
        out = []
        for blk in self.model.decoder.blocks:
            c = blk.cross_attn
            out.append(c.heads(c.key(xa)).transpose(-1, -2))
            out.append(c.heads(c.value(xa)))
        return tuple(out)


class DecoderStepExport(nn.Module):
    """One decoding step over an explicit cache.

    Inputs: tokens [B, N]; reorder [B] (which past row each row continues: beam search); then
    per layer self_k_i, self_v_i (past, T may be 0); then per layer cross_k_i, cross_v_i for W
    windows with B = W * beams. Outputs: logits of the last position [B, V]; cross-attention
    weights of the alignment heads [B, A, N, 1500]; per layer the new self cache (past
    reordered + N new positions).
    """

    def __init__(self, model: Whisper):
        super().__init__()
        self.model = model
        heads = model.alignment_heads or [(model.dims.n_text_layer - 1, 0)]
        self.align_layers = sorted({layer for layer, _ in heads})
        self.align_heads = heads

    def forward(self, tokens: Tensor, reorder: Tensor, *caches: Tensor) -> tuple[Tensor, ...]:
        dec = self.model.decoder
        n_layer = len(dec.blocks)
        self_kv, cross_kv = caches[: 2 * n_layer], caches[2 * n_layer :]
        b, n = tokens.shape
        w = cross_kv[0].shape[0]
        past = self_kv[0].shape[-1]
        x = dec.token_embedding(tokens) + dec.positional_embedding[past : past + n]
        # Causal mask for the N new positions over past + N keys.
        qpos = torch.arange(n, device=tokens.device).unsqueeze(1) + past
        kpos = torch.arange(past + n, device=tokens.device).unsqueeze(0)
        # A finite fill keeps fp16 exports free of inf * 0 = NaN.
        mask = torch.where(kpos > qpos, torch.tensor(-1e4, dtype=x.dtype), torch.tensor(0.0, dtype=x.dtype))
        new_cache, align = [], {}
        for i, blk in enumerate(dec.blocks):
            a = blk.attn
            h = blk.attn_ln(x)
            q = a.heads(a.query(h))
            d = q.shape[-1]
            k = torch.cat([self_kv[2 * i].index_select(0, reorder), a.heads(a.key(h)).transpose(-1, -2)], dim=-1)
            v = torch.cat([self_kv[2 * i + 1].index_select(0, reorder), a.heads(a.value(h))], dim=-2)
            new_cache += [k, v]
            att = torch.softmax((q @ k) / math.sqrt(d) + mask, dim=-1)
            x = x + a.out(a.merge(att @ v))
            c = blk.cross_attn
            h = blk.cross_attn_ln(x)
            q = c.heads(c.query(h))  # [B, H, N, D]
            hh = q.shape[1]
            # Beams of one window share its audio keys: fold beams into the query axis.
            qw = q.reshape(w, b // w, hh, n, d).permute(0, 2, 1, 3, 4).reshape(w, hh, (b // w) * n, d)
            att = torch.softmax((qw @ cross_kv[2 * i]) / math.sqrt(d), dim=-1)  # [W, H, k*N, 1500]
            if i in self.align_layers:
                align[i] = att.reshape(w, hh, b // w, n, -1).permute(0, 2, 1, 3, 4).reshape(b, hh, n, -1)
            o = (att @ cross_kv[2 * i + 1]).reshape(w, hh, b // w, n, d).permute(0, 2, 1, 3, 4).reshape(b, hh, n, d)
            x = x + c.out(c.merge(o))
            x = x + blk.mlp(blk.mlp_ln(x))
        last = dec.ln(x[:, -1])
        logits = last @ dec.token_embedding.weight.T
        weights = torch.stack([align[layer][:, head] for layer, head in self.align_heads], dim=1)
        return (logits, weights, *new_cache)
