"""Weights from other formats to our torch model (OpenAI Whisper state-dict names).

CTranslate2 stores the same tensors under its own names with q/k/v fused; an OpenAI
``.pt`` checkpoint stores them under ours. Both end up as a ``Whisper`` module.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from engine.asr.model import ModelDims, Whisper
from engine.errors import ModelError
from engine.models.ct2 import read_model_bin


def _dequantize(v: dict[str, np.ndarray], name: str) -> np.ndarray:
    w = v[name]
    scale = v.get(name + "_scale")
    if w.dtype == np.int8 and scale is not None:  # CT2 int8: w_q = round(w * scale) per output row
        s = scale.astype(np.float32).reshape(-1, *([1] * (w.ndim - 1)))
        return w.astype(np.float32) / s
    if w.dtype == np.int16 and scale is not None:
        return w.astype(np.float32) / float(scale)
    return w.astype(np.float32)


def ct2_to_state_dict(variables: dict[str, np.ndarray]) -> tuple[ModelDims, dict[str, torch.Tensor]]:
    """Map CTranslate2 WhisperSpec variables to OpenAI names (split fused q/k/v)."""

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(_dequantize(variables, name)))

    def n_layers(prefix: str) -> int:
        return len({k.split("/")[1] for k in variables if re.match(prefix + r"/layer_\d+/", k)})

    sd: dict[str, torch.Tensor] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[dst + ".weight"] = t(src + "/weight")
        if bias:
            sd[dst + ".bias"] = t(src + "/bias")

    def norm(dst: str, src: str) -> None:
        sd[dst + ".weight"] = t(src + "/gamma")
        sd[dst + ".bias"] = t(src + "/beta")

    def fused(dst_prefix: str, src: str, names: list[str]) -> None:
        w, b = t(src + "/weight"), t(src + "/bias")
        for i, part in enumerate(names):
            chunk = w.shape[0] // len(names)
            sd[f"{dst_prefix}.{part}.weight"] = w[i * chunk : (i + 1) * chunk].clone()
            if part != "key":  # Whisper's key projection has no bias (CT2 stores zeros)
                sd[f"{dst_prefix}.{part}.bias"] = b[i * chunk : (i + 1) * chunk].clone()

    for side in ("encoder", "decoder"):
        for i in range(n_layers(side)):
            src = f"{side}/layer_{i}"
            dst = f"{side}.blocks.{i}"
            fused(f"{dst}.attn", f"{src}/self_attention/linear_0", ["query", "key", "value"])
            linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
            norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
            if side == "decoder":
                linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
                fused(f"{dst}.cross_attn", f"{src}/attention/linear_1", ["key", "value"])
                linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
                norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
    for k in ("conv1", "conv2"):
        linear(f"encoder.{k}", f"encoder/{k}")
    sd["encoder.positional_embedding"] = t("encoder/position_encodings/encodings")
    norm("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = t("decoder/embeddings/weight")
    sd["decoder.positional_embedding"] = t("decoder/position_encodings/encodings")
    norm("decoder.ln", "decoder/layer_norm")

    emb = sd["decoder.token_embedding.weight"]
    conv1 = sd["encoder.conv1.weight"]
    dims = ModelDims(
        n_mels=conv1.shape[1],
        n_audio_ctx=sd["encoder.positional_embedding"].shape[0],
        n_audio_state=conv1.shape[0],
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=n_layers("encoder"),
        n_vocab=emb.shape[0],
        n_text_ctx=sd["decoder.positional_embedding"].shape[0],
        n_text_state=emb.shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=n_layers("decoder"),
    )
    return dims, sd


def build_model(dims: ModelDims, state_dict: dict[str, torch.Tensor], alignment_heads=None) -> Whisper:
    model = Whisper(dims)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = [m for m in missing if m != "encoder.positional_embedding"]
    if missing or unexpected:
        raise ModelError(
            f"The model's weights do not match Whisper (missing {missing[:3]}, unexpected {unexpected[:3]})."
        )
    if alignment_heads:  # the heads a model folder names win over those its weights carry
        model.alignment_heads = [tuple(h) for h in alignment_heads]
    elif not model.alignment_heads:  # weights saved without them (older state dicts, CTranslate2)
        model.alignment_heads = default_alignment_heads(dims)
    return model.eval()


def default_alignment_heads(dims: ModelDims) -> list[tuple[int, int]]:
    """Without known alignment heads, use every head of the upper half of the decoder."""
    return [(layer, h) for layer in range(dims.n_text_layer // 2, dims.n_text_layer) for h in range(dims.n_text_head)]


def load_ct2(model_dir: Path, alignment_heads=None) -> Whisper:
    spec, variables = read_model_bin(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"'{model_dir}' holds a CTranslate2 '{spec}' model, not Whisper.")
    dims, sd = ct2_to_state_dict(variables)
    return build_model(dims, sd, alignment_heads)


def load_openai_checkpoint(path: Path) -> Whisper:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and version errors all mean "not a usable checkpoint"
        raise ModelError(f"Cannot read '{path}' as an OpenAI Whisper checkpoint: {e}.") from e
    if not isinstance(ckpt, dict) or "dims" not in ckpt or "model_state_dict" not in ckpt:
        raise ModelError(f"'{path}' is not an OpenAI Whisper checkpoint (no 'dims'/'model_state_dict').")
    dims = ModelDims(**ckpt["dims"])
    heads = None
    raw = ckpt.get("alignment_heads")
    if isinstance(raw, torch.Tensor) and raw.dtype == torch.bool:
        heads = [(int(i), int(j)) for i, j in raw.nonzero().tolist()]
    return build_model(dims, ckpt["model_state_dict"], heads)
