"""The speaker models' ONNX files: exported once into the model cache, opened on the CPU.

GE2E, CAM++ and the segmentation model share both steps: an export from packaged torch weights
written atomically (a killed first start leaves no half file), and a CPU session whose load
failure says which model and what to do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.errors import ModelError


def export_once(out: Path, export: Callable[[Path], None]) -> Path:
    """``out``, made by ``export(tmp_path)`` the first time (needs torch), then moved into place."""
    if out.exists():
        return out
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ModelError("Preparing the speaker model needs PyTorch once: install 'torch'.") from e
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        export(Path(tmp))
        os.replace(tmp, out)
    except OSError as e:
        raise ModelError(f"Cannot write the speaker model to '{out.parent}': {e.strerror or e}.") from e
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def cpu_session(path: Path, threads: int | None, what: str = "speaker model", hint: str = " Delete it to rebuild it."):
    """An ONNX Runtime CPU session on ``threads`` threads (all when None); ModelError if it cannot load."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        raise ModelError(f"Cannot load the {what} '{path}': {e}.{hint}") from e
