"""The GE2E speaker encoder (3-layer LSTM over 40 mel bands -> 256-dim unit vector) in torch.

Torch is only needed to turn the packaged weights into ONNX once; diarization runs the ONNX
file in ONNX Runtime. The weights are ``pretrained.pt`` from the ``resemblyzer`` package, which
is installed without its dependencies: we locate the file without importing the package (its
``__init__`` imports librosa and webrtcvad, which we do not install).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from engine.errors import ModelError

N_MELS = 40
HIDDEN = 256
LAYERS = 3
EMBED = 256
WEIGHTS_ENV = "MINUTES_GE2E_WEIGHTS"
INSTALL_HINT = "install it with: pip install --no-deps resemblyzer==0.1.4"


def weights_path() -> Path:
    """Where ``pretrained.pt`` is: $MINUTES_GE2E_WEIGHTS, else inside the installed resemblyzer."""
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ModelError(f"Speaker model '{path}' ({WEIGHTS_ENV}) does not exist.")
        return path
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The speaker model is missing (package 'resemblyzer'): {INSTALL_HINT}.")
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(f"The speaker model file is missing from '{path.parent}': {INSTALL_HINT}.")
    return path


def build_module(path: Path | None = None):
    """The encoder as a torch module with the packaged weights loaded (eval mode)."""
    import torch
    from torch import nn

    class GE2E(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, EMBED)

        def forward(self, mels: torch.Tensor) -> torch.Tensor:
            # mels: [batch, frames, 40] mel power (not log); the last layer's final state is the voice
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.linalg.vector_norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

    path = path or weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    except Exception as e:  # a truncated or foreign file: unpickling errors of many kinds
        raise ModelError(f"Cannot read the speaker model '{path}': {e}. Reinstall it ({INSTALL_HINT}).") from e
    model = GE2E()
    missing = [k for k in model.state_dict() if k not in state]
    if missing:
        raise ModelError(f"'{path}' is not a GE2E speaker model (missing {missing[0]}).")
    model.load_state_dict({k: state[k] for k in model.state_dict()})
    return model.eval()


def export_onnx(out: Path, path: Path | None = None) -> None:
    """Write the encoder as ONNX with dynamic batch and frame axes."""
    import warnings

    import torch

    model = build_module(path)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the LSTM export warns about batch_first layouts; the graph is right
        torch.onnx.export(
            model,
            (torch.zeros(2, 150, N_MELS),),
            str(out),
            input_names=["mels"],
            output_names=["embedding"],
            dynamic_axes={"mels": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
