"""Low-rank adapters (LoRA) on the attention projections, merged back before export.

Why: training two r x d matrices per projection instead of d x d moves a few percent of the
weights, so AdamW's state is tiny and a small data set cannot wander far from the pretrained
model (less forgetting). Merging (W + scale * B @ A) at the end gives a plain Whisper again, so
the ONNX export and everything downstream need nothing special.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from engine.asr.model import MultiHeadAttention, Whisper

PROJECTIONS = ("query", "key", "value", "out")


class LoRALinear(nn.Module):
    """``base(x) + scale * (x @ A.T) @ B.T`` with ``base`` frozen; B starts at zero (no change at step 0)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        for p in base.parameters():
            p.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        return self.base(x) + (x @ self.lora_a.T) @ self.lora_b.T * self.scale

    def merged(self) -> nn.Linear:
        """The base layer with the adapter folded into its weight."""
        with torch.no_grad():
            self.base.weight += (self.lora_b @ self.lora_a * self.scale).to(self.base.weight.dtype)
        return self.base


def _attentions(model: Whisper, encoder: bool) -> list[MultiHeadAttention]:
    blocks = list(model.decoder.blocks) + (list(model.encoder.blocks) if encoder else [])
    out = []
    for blk in blocks:
        out.append(blk.attn)
        if blk.cross_attn is not None:
            out.append(blk.cross_attn)
    return out


def add_lora(model: Whisper, rank: int, alpha: float, encoder: bool = False, seed: int = 0) -> list[nn.Parameter]:
    """Freeze every weight and wrap the q/k/v/out projections of the decoder's (and, with
    ``encoder``, the encoder's) attentions; returns the adapter parameters (the trainable ones)."""
    for p in model.parameters():
        p.requires_grad_(False)
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # the same adapters on every rank and every resume
    params: list[nn.Parameter] = []
    try:
        for attn in _attentions(model, encoder):
            for name in PROJECTIONS:
                layer = LoRALinear(getattr(attn, name), rank, alpha)
                setattr(attn, name, layer)
                params += [layer.lora_a, layer.lora_b]
    finally:
        torch.random.set_rng_state(gen_state)
    return params


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace every LoRALinear by its merged Linear (in place); the state dict is Whisper's again."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                setattr(module, name, child.merged())
    return model


def has_lora(model: nn.Module) -> bool:
    return any(isinstance(m, LoRALinear) for m in model.modules())
