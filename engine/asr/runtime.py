"""ONNX Runtime sessions for the exported encoder and decoder step.

Picks the CUDA provider when it is present and really works, else the CPU provider, and
says which (the provider in use is always visible to the user).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import DeviceError, ModelError
from engine.models.export_manifest import read_export_manifest

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


class OnnxWhisper:
    """The two sessions plus the shapes the decoder needs. numpy in, numpy out.

    ONNX Runtime sessions may be run from several threads at once, so one instance serves a file
    job and a live session side by side (engine/recognizer.py).
    """

    def __init__(
        self,
        folder: Path,
        precision: str,
        device: str = "cpu",
        threads: int | None = None,
    ):
        import onnxruntime as ort

        self.folder = folder
        self.precision = precision
        self.manifest = read_export_manifest(folder)
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
        # Without the arena, memory used by one big batch is given back instead of kept for good.
        opts.enable_cpu_mem_arena = False
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
        names = [f"{kind}_{i}" for i in range(self.n_layer) for kind in ("k", "v")]
        self._self_names = [f"self_{n}" for n in names]
        self._cross_names = [f"cross_{n}" for n in names]
        self._new_names = [f"new_self_{n}" for n in names]
        used = self.decoder.get_providers()[0]
        self.device = "cuda" if used == "CUDAExecutionProvider" else "cpu"
        if device == "cuda" and self.device != "cuda":
            raise DeviceError(
                "CUDA was requested but its libraries could not be loaded (CUDA 13 and cuDNN 9 are needed); "
                "use --device cpu, or install them."
            )
        # On CUDA, keep caches on the GPU between steps (IO binding). MINUTES_IO_BINDING=1 runs the
        # same path on the CPU provider, which is how it is tested on machines without a GPU.
        self.bind = self.device == "cuda" or os.environ.get("MINUTES_IO_BINDING") == "1"
        self.bind_device = "cuda" if self.device == "cuda" else "cpu"
        log.info("ASR on %s (%s), precision %s, %d threads", self.device, used, precision, opts.intra_op_num_threads)

    def encode(self, mel: np.ndarray) -> list:
        """Cross-attention keys/values for W windows: [k_0, v_0, k_1, v_1, ...], windows first.

        With device binding the tensors stay where the model runs (OrtValues on the GPU).
        """
        mel = mel.astype(self.dtype, copy=False)
        if not self.bind:
            return self.encoder.run(None, {"mel": mel})
        binding = self.encoder.io_binding()
        binding.bind_cpu_input("mel", mel)
        for name in self._cross_names:
            binding.bind_output(name, self.bind_device)
        self.encoder.run_with_iobinding(binding)
        return binding.get_outputs()

    def empty_cache(self, rows: int) -> list[np.ndarray]:
        H, D = self.n_head, self.head_dim
        out = []
        for _ in range(self.n_layer):
            out += [np.zeros((rows, H, D, 0), self.dtype), np.zeros((rows, H, 0, D), self.dtype)]
        return out

    def step(
        self, tokens: np.ndarray, reorder: np.ndarray, self_cache: list, cross: list
    ) -> tuple[np.ndarray, Any, list]:
        """One decoder call: (last-position logits [B, V], alignment weights, new self cache).

        ``reorder[j]`` is the row of ``self_cache`` that new row j continues.
        """
        tokens = tokens.astype(np.int64, copy=False)
        reorder = reorder.astype(np.int64, copy=False)
        if not self.bind:
            feed = {"tokens": tokens, "reorder": reorder}
            feed.update(zip(self._self_names, self_cache))
            feed.update(zip(self._cross_names, cross))
            logits, align, *cache = self.decoder.run(None, feed)
            return logits.astype(np.float32, copy=False), align, cache
        # Caches never leave the device: only tokens go in and logits come out each step.
        binding = self.decoder.io_binding()
        binding.bind_cpu_input("tokens", tokens)
        binding.bind_cpu_input("reorder", reorder)
        for name, value in zip(self._self_names + self._cross_names, [*self_cache, *cross]):
            if isinstance(value, np.ndarray):
                binding.bind_cpu_input(name, value)
            else:
                binding.bind_ortvalue_input(name, value)
        binding.bind_output("logits", "cpu")
        binding.bind_output("align", self.bind_device)
        for name in self._new_names:
            binding.bind_output(name, self.bind_device)
        self.decoder.run_with_iobinding(binding)
        logits, align, *cache = binding.get_outputs()
        return logits.numpy().astype(np.float32, copy=False), align, cache


def to_numpy(x) -> np.ndarray:
    """A tensor from either path (numpy, or an OrtValue kept on the device) as numpy."""
    return x if isinstance(x, np.ndarray) else x.numpy()


def n_windows(cross: list) -> int:
    c = cross[0]
    return c.shape[0] if isinstance(c, np.ndarray) else c.shape()[0]


def select_windows(cross: list, idx: list[int]) -> list[np.ndarray]:
    """Keep some windows (rare: fallback and alignment of a subset); device tensors come back to host."""
    return [np.ascontiguousarray(to_numpy(c)[idx]) for c in cross]


def concat_windows(parts: list[list]) -> list:
    if len(parts) == 1:
        return parts[0]
    return [np.concatenate([to_numpy(c) for c in cs], axis=0) for cs in zip(*parts)]
