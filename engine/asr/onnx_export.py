"""Export our torch Whisper to ONNX (encoder + KV-cache decoder step), per precision.

Runs once per model and precision; the result is cached under the data directory and is
also the "exported model folder" format a user can pass back with --model:

    <folder>/minutes-model.json       name, dims, alignment heads, suppress lists
    <folder>/tokenizer.json
    <folder>/<precision>/encoder.onnx, decoder.onnx
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

from engine.errors import ModelError
from engine.models.store import EXPORT_MANIFEST, ModelProgress, ModelSource, data_dir

PRECISIONS = ("fp32", "fp16", "int8")
OPSET = 17


def export_dir(source: ModelSource) -> Path:
    if source.kind == "exported":
        return source.path
    return data_dir() / "models" / source.cache_key / "onnx"


def is_exported(folder: Path, precision: str) -> bool:
    d = folder / precision
    return (folder / EXPORT_MANIFEST).exists() and (d / "encoder.onnx").exists() and (d / "decoder.onnx").exists()


def ensure_exported(source: ModelSource, precision: str, progress: ModelProgress | None = None) -> Path:
    """Return the folder holding ``<precision>/{encoder,decoder}.onnx``, exporting on first use."""
    if precision not in PRECISIONS:
        raise ModelError(f"Unknown precision '{precision}': choose fp32, fp16 or int8.")
    folder = export_dir(source)
    if is_exported(folder, precision):
        return folder
    if source.kind == "exported":
        have = [p for p in PRECISIONS if is_exported(folder, p)]
        if not have:
            raise ModelError(f"'{folder}' has no exported ONNX files: export the model again.")
        if precision == "int8" and "fp32" in have:
            _quantize(folder, progress)
            return folder
        raise ModelError(f"'{folder}' has no {precision} export (it has {', '.join(have)}): pick one of those.")
    try:
        import torch  # noqa: F401  (conversion needs torch; transcription of exported models does not)
    except ImportError as e:
        raise ModelError("Converting a model to ONNX needs PyTorch: install 'torch', or use an exported model.") from e
    _export(source, folder, precision, progress)
    return folder


def _report(progress: ModelProgress | None, stage: str, frac: float) -> None:
    if progress:
        progress(stage, frac)


def _load_torch_model(source: ModelSource):
    from engine.asr.convert import load_ct2, load_openai_checkpoint

    if source.kind == "ct2":
        return load_ct2(source.path, source.alignment_heads)
    if source.kind == "openai":
        return load_openai_checkpoint(source.path)
    raise ModelError(f"Cannot convert a model of kind '{source.kind}'.")


def _write_manifest(folder: Path, source: ModelSource, model) -> None:
    manifest = {
        "format": 1,
        "name": source.name,
        "dims": model.dims.to_dict(),
        "alignment_heads": [list(h) for h in model.alignment_heads],
        "suppress_ids": source.suppress_ids,
        "suppress_ids_begin": source.suppress_ids_begin,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (folder / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    shutil.copyfile(source.tokenizer, folder / "tokenizer.json")


def export_onnx(model, out: Path, fp16: bool = False, progress: ModelProgress | None = None) -> None:
    """Write encoder.onnx and decoder.onnx for a torch Whisper into ``out``."""
    import torch

    from engine.asr.model import DecoderStepExport, EncoderExport

    out.mkdir(parents=True, exist_ok=True)
    d = model.dims
    dtype = torch.float16 if fp16 else torch.float32
    model = model.to(dtype)
    L, H, D = d.n_text_layer, d.n_text_head, d.n_text_state // d.n_text_head
    names = [f"{kind}_{i}" for i in range(L) for kind in ("k", "v")]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constants: shapes here are fixed by design
        _report(progress, "Exporting encoder", 0.1)
        mel = torch.zeros(1, d.n_mels, 2 * d.n_audio_ctx, dtype=dtype)
        cross_names = [f"cross_{n}" for n in names]
        torch.onnx.export(
            EncoderExport(model),
            (mel,),
            str(out / "encoder.onnx"),
            input_names=["mel"],
            output_names=cross_names,
            dynamic_axes={"mel": {0: "windows"}, **{n: {0: "windows"} for n in cross_names}},
            opset_version=OPSET,
            dynamo=False,
        )
        _report(progress, "Exporting decoder", 0.5)
        w, b, n, t = 1, 2, 3, 4
        self_cache = []
        for _ in range(L):
            self_cache += [torch.zeros(b, H, D, t, dtype=dtype), torch.zeros(b, H, t, D, dtype=dtype)]
        cross_cache = []
        for _ in range(L):
            cross_cache += [
                torch.zeros(w, H, D, d.n_audio_ctx, dtype=dtype),
                torch.zeros(w, H, d.n_audio_ctx, D, dtype=dtype),
            ]
        args = (torch.zeros(b, n, dtype=torch.long), torch.arange(b, dtype=torch.long), *self_cache, *cross_cache)
        self_names = [f"self_{n}" for n in names]
        new_names = [f"new_self_{n}" for n in names]
        axes = {
            "tokens": {0: "rows", 1: "n"},
            "reorder": {0: "rows"},
            "logits": {0: "rows"},
            "align": {0: "rows", 2: "n"},
        }
        for nm in self_names:
            axes[nm] = {0: "past_rows", (3 if nm.startswith("self_k") else 2): "past"}
        for nm in new_names:
            axes[nm] = {0: "rows", (3 if nm.startswith("new_self_k") else 2): "total"}
        for nm in cross_names:
            axes[nm] = {0: "windows"}
        torch.onnx.export(
            DecoderStepExport(model),
            args,
            str(out / "decoder.onnx"),
            input_names=["tokens", "reorder", *self_names, *cross_names],
            output_names=["logits", "align", *new_names],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def _export(source: ModelSource, folder: Path, precision: str, progress: ModelProgress | None) -> None:
    _report(progress, "Loading weights", 0.0)
    model = _load_torch_model(source)
    folder.mkdir(parents=True, exist_ok=True)
    base = "fp16" if precision == "fp16" else "fp32"
    if not is_exported(folder, base):
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            try:
                export_onnx(model, Path(tmp), fp16=(base == "fp16"), progress=progress)
            except OSError as e:
                raise ModelError(f"Cannot write the exported model to '{folder}': {e.strerror or e}.") from e
            target = folder / base
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
            os.mkdir(tmp)  # TemporaryDirectory cleans up the (now empty) path
    _write_manifest(folder, source, model)
    if precision == "int8":
        _quantize(folder, progress)
    _report(progress, "Model ready", 1.0)


def _quantize(folder: Path, progress: ModelProgress | None) -> None:
    """Dynamic INT8 (weights int8, activations quantized on the fly): the CPU default."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = folder / "fp32", folder / "int8"
    with _quiet_quantizer():  # its advice on pre-processing is not for users
        _quantize_files(src, dst, folder, progress, quantize_dynamic, QuantType)


class _LastResort(logging.Handler):
    """What the root logger does without handlers (``logging.lastResort``), as a handler."""

    def emit(self, record: logging.LogRecord) -> None:
        last = logging.lastResort
        if last is not None and record.levelno >= last.level:
            last.handle(record)


@contextlib.contextmanager
def _quiet_quantizer():
    """Drop onnxruntime.quantization's warnings, and nothing else, while the block runs.

    It warns through the root logger itself (``logging.warning``), so no named logger can be
    muted; a filter on the root logger drops records below ERROR logged there from the
    quantizer's own files in this thread. Other threads' and other loggers' records, the root
    level and the handlers are left as they are; and as ``logging.warning`` would install a
    stderr handler for good on a root logger without one (``basicConfig``), a stand-in for the
    default behaviour is put there for the block."""
    root = logging.getLogger()
    me = threading.get_ident()
    marker = os.sep + os.path.join("onnxruntime", "quantization") + os.sep

    def keep(record: logging.LogRecord) -> bool:
        return not (record.thread == me and record.levelno < logging.ERROR and marker in record.pathname)

    stand_in = _LastResort() if not root.handlers else None
    if stand_in is not None:
        root.addHandler(stand_in)
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        if stand_in is not None:
            root.removeHandler(stand_in)


def _quantize_files(src: Path, dst: Path, folder: Path, progress, quantize_dynamic, QuantType) -> None:
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for i, name in enumerate(("encoder.onnx", "decoder.onnx")):
            _report(progress, f"Quantizing {name.split('.')[0]} to INT8", 0.7 + 0.15 * i)
            quantize_dynamic(
                str(src / name),
                str(Path(tmp) / name),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gemm"],
            )
        if dst.exists():
            shutil.rmtree(dst)
        os.replace(tmp, dst)
        os.mkdir(tmp)
