"""ONNX Runtime sessions for the exported encoder and decoder step.

Picks the CUDA provider when it is present and really works, else the CPU provider, and
says which (the provider in use is always visible to the user).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DeviceError, ModelError
from engine.models.store import EXPORT_MANIFEST

log = logging.getLogger("minutes.asr")


def nvidia_gpu_count() -> int:
    """GPUs the NVIDIA driver reports (0 without a driver): onnxruntime-gpu lists its CUDA
    provider even on machines with no GPU, so that list alone cannot decide."""
    import ctypes
    import sys

    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        cuda = ctypes.CDLL(name)
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    except (OSError, AttributeError):
        return 0


def cuda_available() -> bool:
    """True when onnxruntime has the CUDA provider and a GPU is present (libraries may still fail)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers() and nvidia_gpu_count() > 0


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise DeviceError(f"Unknown device '{device}': choose auto, cuda or cpu.")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise DeviceError(
            "CUDA was requested but no usable NVIDIA GPU was found (or this onnxruntime has no CUDA "
            "support: install 'onnxruntime-gpu' with CUDA 13 and cuDNN 9); use --device cpu."
        )
    return device


def default_precision(device: str) -> str:
    return "fp16" if device == "cuda" else "int8"


@dataclass
class Manifest:
    name: str
    dims: dict
    alignment_heads: list[list[int]]
    suppress_ids: list[int] | None
    suppress_ids_begin: list[int] | None

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        try:
            m = json.loads((folder / EXPORT_MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"'{folder}' has no readable {EXPORT_MANIFEST}: {e}. Export the model again.") from e
        return cls(m["name"], m["dims"], m.get("alignment_heads", []), m.get("suppress_ids"), m.get("suppress_ids_begin"))


class OnnxWhisper:
    """The two sessions plus the shapes the decoder needs. numpy in, numpy out."""

    def __init__(self, folder: Path, precision: str, device: str = "cpu", threads: int | None = None):
        import onnxruntime as ort

        self.folder = folder
        self.precision = precision
        self.manifest = Manifest.load(folder)
        d = self.manifest.dims
        self.n_layer, self.n_head = d["n_text_layer"], d["n_text_head"]
        self.head_dim = d["n_text_state"] // d["n_text_head"]
        self.n_audio_ctx = d["n_audio_ctx"]
        self.n_text_ctx = d["n_text_ctx"]
        self.n_mels = d["n_mels"]
        self.dtype = np.float16 if precision == "fp16" else np.float32

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        providers: list = ["CPUExecutionProvider"]
        if device == "cuda":
            if hasattr(ort, "preload_dlls"):
                try:
                    ort.preload_dlls()  # CUDA/cuDNN from the nvidia-* wheels, when present
                except Exception:  # noqa: BLE001 - missing libraries are reported below
                    pass
            providers = [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
        files = [folder / precision / "encoder.onnx", folder / precision / "decoder.onnx"]
        for f in files:
            if not f.exists():
                raise ModelError(f"Exported model file missing: '{f}'. Delete '{folder}' so it is exported again.")
        try:
            self.encoder = ort.InferenceSession(str(files[0]), opts, providers=providers)
            self.decoder = ort.InferenceSession(str(files[1]), opts, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise ModelError(
                f"Cannot load the exported model in '{folder / precision}': {str(e).splitlines()[0]}. "
                f"Delete that folder so it is exported again."
            ) from e
        used = self.decoder.get_providers()[0]
        self.device = "cuda" if used == "CUDAExecutionProvider" else "cpu"
        if device == "cuda" and self.device != "cuda":
            raise DeviceError(
                "CUDA was requested but its libraries could not be loaded (CUDA 13 and cuDNN 9 are needed); "
                "use --device cpu, or install them."
            )
        log.info("ASR on %s (%s), precision %s, %d threads", self.device, used, precision, opts.intra_op_num_threads)

    def encode(self, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k, v = self.encoder.run(None, {"mel": mel.astype(self.dtype, copy=False)})
        return k, v

    def empty_cache(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        L, H, D = self.n_layer, self.n_head, self.head_dim
        return np.zeros((L, rows, H, D, 0), self.dtype), np.zeros((L, rows, H, 0, D), self.dtype)

    def step(
        self,
        tokens: np.ndarray,
        self_k: np.ndarray,
        self_v: np.ndarray,
        cross_k: np.ndarray,
        cross_v: np.ndarray,
        reorder: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        logits, k, v, align = self.decoder.run(
            None,
            {
                "tokens": tokens.astype(np.int64, copy=False),
                "self_k": self_k,
                "self_v": self_v,
                "cross_k": cross_k,
                "cross_v": cross_v,
                "reorder": reorder.astype(np.int64, copy=False),
            },
        )
        return logits.astype(np.float32, copy=False), k, v, align
