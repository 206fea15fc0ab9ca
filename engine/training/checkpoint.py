"""Checkpoints written atomically, read back for a resume; the final model in OpenAI's format.

A checkpoint holds only what training changes (the trainable parameters, the optimizer, the
schedule, the RNG states, where in the data it was), not the frozen base weights: a frozen-encoder
run of Whisper base saves ~0.6 GB instead of ~0.9 GB, and an adapter run a few MB. A resume rebuilds
the same base model and lays these on top. Each save replaces the file by a rename (engine.atomic):
a kill or a full disk mid-save leaves the previous checkpoint whole.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from engine.asr.model import Whisper
from engine.atomic import write_bytes_atomic
from engine.errors import MinutesError

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"


class CheckpointError(MinutesError):
    """A checkpoint cannot be written or read: one line says why; the previous one is untouched."""


def _to_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    try:
        return write_bytes_atomic(path, _to_bytes(state))
    except MinutesError as e:
        raise CheckpointError(f"{str(e).rstrip('.')}; the previous checkpoint is kept (resume from it).") from e


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"No training checkpoint at '{path}': start without resume.") from None
    except Exception as e:  # pickle, zip and version errors all mean "not a usable checkpoint"
        raise CheckpointError(f"Cannot read the training checkpoint '{path}': {e}.") from e


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Copies (on the CPU) of the parameters that train: what a checkpoint and 'best weights' keep."""
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    wanted = {n for n, p in params.items() if p.requires_grad}
    if set(state) != wanted:
        raise CheckpointError(
            "The checkpoint was made with other settings (freeze_encoder, lora_rank): resume with the same ones."
        )
    with torch.no_grad():
        for n, t in state.items():
            params[n].copy_(t)


def rng_state() -> dict[str, Any]:
    import random

    import numpy as np

    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.random.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype("int64")), "pos": int(pos), "gauss": (has_gauss, gauss)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import random

    import numpy as np

    torch.random.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype("uint32"), n["pos"], *n["gauss"]))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_model(path: Path, model: Whisper) -> Path:
    """The whole model as an OpenAI-style checkpoint (dims, model_state_dict, alignment heads as a
    bool mask), which ``engine.asr.convert.load_openai_checkpoint`` reads back with its word-timing heads."""
    d = model.dims
    heads = torch.zeros(d.n_text_layer, d.n_text_head, dtype=torch.bool)
    for layer, head in model.alignment_heads:
        heads[layer, head] = True
    state = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    obj = {"dims": d.to_dict(), "model_state_dict": state, "alignment_heads": heads}
    try:
        return write_bytes_atomic(path, _to_bytes(obj))
    except MinutesError as e:
        raise CheckpointError(str(e)) from e


def checkpoint_path(out_dir: str | os.PathLike[str]) -> Path:
    return Path(out_dir) / CHECKPOINT_FILE
