"""CAM++ speaker embeddings (3D-Speaker, zh+en, 192-dim) in ONNX Runtime over Kaldi fbank frames.

The network is written here against the packaged state dict's key names; torch is needed only to
turn those weights into ONNX once, into the data folder, and running it needs onnxruntime and
numpy. The shape, from the paper (Wang et al., Interspeech 2023): a 2-D residual front end over
frequency (FCM), a strided TDNN, three densely connected blocks of context-aware-masked TDNN
layers with transitions that halve the channels, then mean and standard deviation over time and
an affine-free batch norm as the embedding.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import ModelError
from engine.paths import bundled_model, data_dir
from engine.speakers import model_files
from engine.speakers.fbank import N_MELS, fbank
from engine.speakers.onnx_files import cpu_session, export_once

log = logging.getLogger("minutes.speakers")

EMBED = 192
MIN_FRAMES = 20  # shorter frame arrays are repeated up to this (0.2 s): the pooled std needs a few frames
EXPORT_VERSION = 1  # bump when the graph written by export_onnx changes, so cached files are rebuilt
BATCH = 32  # equal-length frame arrays per run


@lru_cache(maxsize=1)
def _network():
    """The CAM++ module class; built on first use so that running the ONNX file never imports torch."""
    from collections import OrderedDict

    import torch
    import torch.nn.functional as F
    from torch import nn

    def bn_relu(channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(channels), relu=nn.ReLU()))

    class ResBlock(nn.Module):
        """3x3 residual block of the front end; ``stride`` halves frequency only, never time."""

        def __init__(self, channels: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.shortcut = nn.Sequential()
            if stride != 1:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(channels)
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(y + self.shortcut(x))

    class Head(nn.Module):
        """FCM: [B, 80, T] -> [B, 32 * 10, T], frequency folded into channels."""

        def __init__(self, channels: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.layer1 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
            self.layer2 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
            x = F.relu(self.bn2(self.conv2(self.layer2(self.layer1(x)))))
            return x.flatten(1, 2)

    class CAMLayer(nn.Module):
        """A TDNN whose output is gated by context: the utterance mean plus the mean of its 100-frame segment."""

        def __init__(self, channels: int, out: int, dilation: int, seg_len: int = 100) -> None:
            super().__init__()
            self.linear_local = nn.Conv1d(channels, out, 3, padding=dilation, dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(channels, channels // 2, 1)
            self.linear2 = nn.Conv1d(channels // 2, out, 1)
            self.seg_len = seg_len

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seg = F.avg_pool1d(x, self.seg_len, self.seg_len, ceil_mode=True)  # the last segment may be short
            seg = seg.repeat_interleave(self.seg_len, dim=-1)[..., : x.shape[-1]]
            context = x.mean(-1, keepdim=True) + seg
            return self.linear_local(x) * torch.sigmoid(self.linear2(F.relu(self.linear1(context))))

    class DenseBlock(nn.ModuleDict):
        """Each layer sees every earlier output: bn-relu, 1x1 to 128, bn-relu, CAM layer to 32 more channels."""

        def __init__(self, layers: int, channels: int, dilation: int, growth: int = 32, bottleneck: int = 128):
            super().__init__()
            for i in range(layers):
                self[f"tdnnd{i + 1}"] = nn.Sequential(
                    OrderedDict(
                        nonlinear1=bn_relu(channels + i * growth),
                        linear1=nn.Conv1d(channels + i * growth, bottleneck, 1, bias=False),
                        nonlinear2=bn_relu(bottleneck),
                        cam_layer=CAMLayer(bottleneck, growth, dilation),
                    )
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for layer in self.values():
                x = torch.cat([x, layer(x)], dim=1)
            return x

    class CAMPPlus(nn.Module):
        """Fbank frames [B, T, 80] (utterance mean removed) -> embedding [B, 192] (not unit length)."""

        def __init__(self) -> None:
            super().__init__()
            self.head = Head()
            xv = nn.ModuleDict()
            xv["tdnn"] = nn.Sequential(
                OrderedDict(linear=nn.Conv1d(320, 128, 5, stride=2, padding=2, bias=False), nonlinear=bn_relu(128))
            )
            channels = 128
            for i, (layers, dilation) in enumerate([(12, 1), (24, 2), (16, 2)]):
                xv[f"block{i + 1}"] = DenseBlock(layers, channels, dilation)
                channels += 32 * layers
                xv[f"transit{i + 1}"] = nn.Sequential(
                    OrderedDict(nonlinear=bn_relu(channels), linear=nn.Conv1d(channels, channels // 2, 1, bias=False))
                )
                channels //= 2
            xv["out_nonlinear"] = bn_relu(channels)
            xv["dense"] = nn.Sequential(
                OrderedDict(
                    linear=nn.Conv1d(2 * channels, EMBED, 1, bias=False),
                    nonlinear=nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(EMBED, affine=False))),
                )
            )
            self.xvector = xv

        def forward(self, feats: torch.Tensor) -> torch.Tensor:
            x = self.head(feats.transpose(1, 2))
            for name, module in self.xvector.items():
                if name == "dense":
                    x = torch.cat([x.mean(-1), x.std(-1)], dim=1)  # statistics pooling (unbiased std)
                    x = module(x.unsqueeze(-1)).squeeze(-1)
                else:
                    x = module(x)
            return x

    return CAMPPlus


def build_module(path: Path | None = None):
    """CAM++ as a torch module with the packaged weights loaded (eval mode)."""
    import torch

    path = path or model_files.locate(model_files.CAMPPLUS)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a foreign file that passed no sha check (a test's, a developer's): many kinds
        raise ModelError(f"Cannot read the {model_files.CAMPPLUS.what} '{path}': {e}.") from e
    model = _network()()
    expected = set(model.state_dict())
    if not isinstance(state, dict) or set(state) != expected:
        got = set(state) if isinstance(state, dict) else set()
        odd = sorted(expected ^ got)
        raise ModelError(f"'{path}' is not the CAM++ model this app expects (key {odd[0] if odd else '?'}).")
    model.load_state_dict(state, strict=True)
    return model.eval()


def export_onnx(out: Path, path: Path | None = None) -> None:
    """Write CAM++ as ONNX, input ``fbank`` [batch, frames, 80] -> ``embedding`` [batch, 192]."""
    import warnings

    import torch

    model = build_module(path)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes read in forward; the axes stay dynamic
        torch.onnx.export(
            model,
            (torch.zeros(2, 230, N_MELS),),
            str(out),
            input_names=["fbank"],
            output_names=["embedding"],
            dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def _model_path() -> Path:
    """The ONNX encoder in the data folder, exported from the verified packaged weights on first use."""
    relpath = f"campplus/campplus-{model_files.CAMPPLUS.sha256[:12]}-v{EXPORT_VERSION}.onnx"
    bundled = bundled_model(relpath)  # an installer's export: no torch, no packaged weights needed
    if bundled is not None:
        return bundled
    weights = model_files.locate(model_files.CAMPPLUS)
    out = data_dir() / "models" / relpath
    if not out.exists():
        log.info("exporting CAM++ to %s", out)
    return export_once(out, lambda tmp: export_onnx(tmp, weights))


class CamEncoder:
    """CAM++ on ONNX Runtime (CPU): fbank once per window, then one embedding per set of frames."""

    dim = EMBED

    def __init__(self, threads: int | None = None, model_path: str | os.PathLike[str] | None = None) -> None:
        path = Path(model_path) if model_path else _model_path()
        self.session = cpu_session(path, threads)

    @staticmethod
    def features(audio: np.ndarray) -> np.ndarray:
        """Fbank frames [T, 80] of 16 kHz audio, mean kept: compute a window once, embed subsets of it."""
        return fbank(audio)

    def embed_frames(self, frames_list: Sequence[np.ndarray]) -> np.ndarray:
        """Unit-length embeddings [len(frames_list), 192], one per [t_i, 80] array of ``features`` frames.

        Each array has its own mean removed, as CAM++ was trained. Arrays shorter than MIN_FRAMES
        are repeated up to it; an empty array gets a zero vector (no voice to describe). Arrays of
        equal length run as one batch.
        """
        out = np.zeros((len(frames_list), EMBED), dtype=np.float32)
        groups: dict[int, list[int]] = {}
        prepared: list[np.ndarray | None] = []
        for i, frames in enumerate(frames_list):
            frames = np.asarray(frames, dtype=np.float32)
            if frames.ndim != 2 or frames.shape[1] != N_MELS:
                raise ValueError(f"expected fbank frames [t, {N_MELS}], got {frames.shape}")
            if len(frames) == 0:
                prepared.append(None)
                continue
            frames = frames - frames.mean(axis=0)
            if len(frames) < MIN_FRAMES:
                frames = np.resize(frames, (MIN_FRAMES, N_MELS))  # repeats the rows in order
            prepared.append(frames)
            groups.setdefault(len(frames), []).append(i)
        for idx in groups.values():
            for k in range(0, len(idx), BATCH):
                part = idx[k : k + BATCH]
                batch = np.stack([prepared[i] for i in part])
                out[part] = self.session.run(None, {"fbank": batch})[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def embed_spans(self, audio: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
        """One embedding per (start, end) span of ``audio`` in seconds (the live tracker's windows),
        from one fbank of the whole clip."""
        feats = self.features(audio)
        if not len(spans):
            return np.zeros((0, EMBED), dtype=np.float32)
        pieces = []
        for a, b in spans:
            f0 = min(max(0, int(round(a * 100))), max(0, len(feats) - 1))
            pieces.append(feats[f0 : max(f0 + 1, int(round(b * 100)))])
        return self.embed_frames(pieces)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One unit-length embedding [192] for a whole clip (zeros if it is under 25 ms)."""
        return self.embed_frames([self.features(audio)])[0]
