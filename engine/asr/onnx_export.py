"""Export a torch Whisper to ONNX (encoder + KV-cache decoder step), per precision.

``export_model`` writes an exported-model folder (format: engine/models/export_manifest.py), the
folder that ``--model FOLDER`` and the model registry load, from any torch Whisper: fine-tuned
weights, and the packaged or a user's model on first use (``ensure_exported``, cached under the
data directory). It builds the folder beside its destination and renames it into place at the
end, so a cancelled or failed export leaves nothing that could be taken for a finished one.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import secrets
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from engine.errors import Cancelled, ModelError
from engine.models.export_manifest import (
    PRECISIONS,
    ExportManifest,
    has_manifest,
    has_precision,
    write_export_manifest,
)
from engine.models.store import ModelProgress, ModelSource, data_dir

OPSET = 17

# A cancel: an Event (threading or multiprocessing) set from anywhere, or a function that says whether to stop.
Cancel = threading.Event | Callable[[], bool]

# Each step's share of the progress bar: encoders take twice as long as decoders to export,
# quantizing a graph a few seconds. The lead is the loading of the weights before the export.
_LEAD, _EXPORT_ENCODER, _EXPORT_DECODER, _QUANTIZE = 2, 8, 4, 3


def export_dir(source: ModelSource) -> Path:
    if source.kind == "exported":
        return source.path
    return data_dir() / "models" / source.cache_key / "onnx"


def is_exported(folder: Path, precision: str) -> bool:
    return has_precision(folder, precision)


def ensure_exported(source: ModelSource, precision: str, progress: ModelProgress | None = None) -> Path:
    """Return the folder holding ``<precision>/{encoder,decoder}.onnx``, exporting on first use."""
    if precision not in PRECISIONS:
        raise ModelError(f"Unknown precision '{precision}': choose fp32, fp16 or int8.")
    folder = export_dir(source)
    if is_exported(folder, precision):
        return folder
    have = [p for p in PRECISIONS if is_exported(folder, p)]
    if precision == "int8" and "fp32" in have:  # INT8 is made from fp32 without torch
        quantize_folder(folder, progress)
        return folder
    if source.kind == "exported":
        if not have:
            raise ModelError(f"'{folder}' has no exported ONNX files: export the model again.")
        raise ModelError(f"'{folder}' has no {precision} export (it has {', '.join(have)}): pick one of those.")
    try:
        import torch  # noqa: F401  (conversion needs torch; transcription of exported models does not)
    except ImportError as e:
        raise ModelError("Converting a model to ONNX needs PyTorch: install 'torch', or use an exported model.") from e
    _report(progress, "Loading weights", 0.0)
    model = _load_torch_model(source)
    wanted = ["fp32", "int8"] if precision == "int8" else [precision]  # fp32 is kept: fp32 runs need no export
    options = dict(
        name=source.name,
        tokenizer_json=source.tokenizer,
        suppress_ids=source.suppress_ids,
        suppress_ids_begin=source.suppress_ids_begin,
        progress=progress,
    )
    if has_manifest(folder):
        _add_precisions(model, folder, [p for p in wanted if p not in have], **options)
    else:
        if folder.exists():  # an unfinished export of an earlier version: this is our cache
            shutil.rmtree(folder)
        export_model(model, folder, wanted, **options)
    return folder


def export_model(
    torch_model,
    out_dir: str | os.PathLike[str],
    precisions: Iterable[str] = PRECISIONS,
    *,
    name: str,
    tokenizer_json: str | os.PathLike[str],
    metadata: dict | None = None,
    suppress_ids: list[int] | None = None,
    suppress_ids_begin: list[int] | None = None,
    per_channel: bool = False,
    progress: ModelProgress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Write ``torch_model`` (engine.asr.model.Whisper) as an exported-model folder at ``out_dir``.

    ``precisions``: any of fp32 (reference), fp16 (CUDA), int8 (dynamic, the CPU default; made from
    an fp32 export, which is dropped unless asked for). ``metadata`` (JSON) goes into the manifest,
    for the registry (where a fine-tuned model came from). ``progress(stage, fraction)`` hears
    each step; ``cancel`` is checked between steps, and ``progress`` may raise Cancelled too:
    either way nothing is left at ``out_dir``. ``torch_model`` itself is not changed (fp16, and a
    model on a GPU, are exported from a CPU copy). ModelError when ``out_dir`` is taken or cannot
    be written. Needs torch and onnxruntime.
    """
    out = Path(out_dir)
    wanted = _precisions(precisions)
    if not name:
        raise ModelError("An exported model needs a name.")
    tokenizer = Path(tokenizer_json)
    if not tokenizer.is_file():
        raise ModelError(f"Cannot export the model: its tokenizer '{tokenizer}' does not exist.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ModelError(f"Cannot export the model to '{out}': it already exists. Choose a new folder.")
    manifest = ExportManifest(
        name=name,
        dims=torch_model.dims.to_dict(),
        alignment_heads=list(torch_model.alignment_heads),
        suppress_ids=suppress_ids,
        suppress_ids_begin=suppress_ids_begin,
        metadata=dict(metadata or {}),
    )
    manifest.to_json()  # metadata that JSON cannot hold fails now, not after a minute of exporting
    plan = []
    if "fp32" in wanted or "int8" in wanted:
        plan += [_EXPORT_ENCODER, _EXPORT_DECODER]
    if "int8" in wanted:
        plan += [_QUANTIZE, _QUANTIZE]
    if "fp16" in wanted:
        plan += [_EXPORT_ENCODER, _EXPORT_DECODER]
    steps = _Steps(plan, progress, cancel)
    tmp = _hidden_sibling(out, "partial")
    try:
        if "fp32" in wanted or "int8" in wanted:
            export_onnx(torch_model, tmp / "fp32", fp16=False, step=steps)
        if "int8" in wanted:
            with _quiet_quantizer():  # its advice on pre-processing is not for users
                _quantize_files(tmp / "fp32", tmp / "int8", steps, per_channel)
            if "fp32" not in wanted:
                shutil.rmtree(tmp / "fp32")
        if "fp16" in wanted:
            export_onnx(torch_model, tmp / "fp16", fp16=True, step=steps)
        shutil.copyfile(tokenizer, tmp / "tokenizer.json")
        write_export_manifest(tmp, manifest)
        steps.finish("Model ready")
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException as e:  # a failure or a cancel: the half-made folder goes
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise ModelError(f"Cannot write the exported model to '{out}': {e.strerror or e}.") from e
        raise
    return out


def quantize_folder(folder: Path, progress: ModelProgress | None = None, cancel: Cancel | None = None) -> None:
    """Add ``int8/`` to an exported folder from its ``fp32/``, atomically (the CPU default)."""
    steps = _Steps([_QUANTIZE, _QUANTIZE], progress, cancel)
    try:
        with tempfile.TemporaryDirectory(dir=folder) as tmp, _quiet_quantizer():
            _quantize_files(folder / "fp32", Path(tmp) / "int8", steps)
            _replace_dir(Path(tmp) / "int8", folder / "int8")
    except OSError as e:
        raise ModelError(f"Cannot write the INT8 model to '{folder}': {e.strerror or e}.") from e


def _add_precisions(model, folder: Path, missing: list[str], **options) -> None:
    """Export ``missing`` precisions beside ``folder`` and move each into it (a whole one, or none)."""
    tmp = _hidden_sibling(folder, "adding")
    try:
        made = export_model(model, tmp / "export", missing, **options)
        for precision in missing:
            _replace_dir(made / precision, folder / precision)
    except OSError as e:
        raise ModelError(f"Cannot write the exported model to '{folder}': {e.strerror or e}.") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _hidden_sibling(folder: Path, what: str) -> Path:
    """A new empty folder beside ``folder`` that no reader takes for a model (its name starts with a
    dot), with the permissions a plain mkdir gives (mkdtemp's are private to the user)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.{what}")
        tmp.mkdir()
    except OSError as e:
        raise ModelError(f"Cannot write the exported model to '{folder}': {e.strerror or e}.") from e
    return tmp


def _replace_dir(src: Path, dst: Path) -> None:
    if dst.exists():  # an incomplete one (a graph missing)
        shutil.rmtree(dst)
    os.replace(src, dst)


def _precisions(precisions: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(precisions))
    bad = [p for p in wanted if p not in PRECISIONS]
    if bad or not wanted:
        raise ModelError(f"Unknown precision '{','.join(bad)}': choose from fp32, fp16, int8.")
    return wanted


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and (cancel.is_set() if hasattr(cancel, "is_set") else cancel()):
        raise Cancelled("Export cancelled.")


class _Steps:
    """Progress over a planned list of step weights: each step first checks the cancel, then reports
    its stage at the share of the work done before it."""

    def __init__(self, plan: list[int], progress: ModelProgress | None, cancel: Cancel | None):
        self.progress, self.cancel = progress, cancel
        self.weights = iter(plan)
        self.total = _LEAD + sum(plan)
        self.done = _LEAD

    def __call__(self, stage: str) -> None:
        _check(self.cancel)
        _report(self.progress, stage, self.done / self.total)
        self.done += next(self.weights)

    def finish(self, stage: str) -> None:
        _check(self.cancel)
        _report(self.progress, stage, 1.0)


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


def _cpu_copy(model, dtype):
    """``model`` on the CPU in ``dtype``: itself when it already is, else a copy (the caller's model,
    which may go on training, is never converted in place)."""
    params = list(model.parameters())
    if all(p.device.type == "cpu" and p.dtype == dtype for p in params):
        return model
    return copy.deepcopy(model).to(device="cpu", dtype=dtype)


def export_onnx(model, out: Path, fp16: bool = False, step: Callable[[str], None] | None = None) -> None:
    """Write encoder.onnx and decoder.onnx for a torch Whisper into ``out``; ``step(stage)`` before each."""
    import torch

    from engine.asr.model import DecoderStepExport, EncoderExport

    out.mkdir(parents=True, exist_ok=True)
    d = model.dims
    dtype = torch.float16 if fp16 else torch.float32
    model = _cpu_copy(model, dtype)
    label = " (fp16)" if fp16 else ""
    L, H, D = d.n_text_layer, d.n_text_head, d.n_text_state // d.n_text_head
    names = [f"{kind}_{i}" for i in range(L) for kind in ("k", "v")]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constants: shapes here are fixed by design
        if step:
            step(f"Exporting encoder{label}")
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
        if step:
            step(f"Exporting decoder{label}")
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


def _quantize_files(src: Path, dst: Path, step: Callable[[str], None], per_channel: bool = False) -> None:
    """Dynamic INT8 (weights int8, activations quantized on the fly) of ``src``'s graphs into ``dst``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst.mkdir(parents=True, exist_ok=True)
    for name in ("encoder.onnx", "decoder.onnx"):
        step(f"Quantizing {name.split('.')[0]} to INT8")
        quantize_dynamic(
            str(src / name),
            str(dst / name),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=per_channel,
        )
    _half_embedding_lookup(dst / "decoder.onnx")


def _half_embedding_lookup(path: Path) -> None:
    """Store the decoder's token-embedding lookup in fp16.

    Why: the table (51,865 x 512) is the decoder's input Gather and, transposed, its output
    projection; the quantizer above takes the projection only, so the lookup stayed fp32: 106 MB
    of a 156 MB decoder. In fp16 it is 53 MB and gives the same text (asr_zh, asr_en); INT8 with
    ONNX Runtime's one scale for the table, or even one scale per row, changed a Chinese word
    (CER 6.5% -> 9.1% on asr_zh). The lookup becomes Cast(Gather(fp16)).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    tables = {t.name: t for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) == 2}
    for at, node in enumerate(list(g.node)):
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or table.dims[0] * table.dims[1] < 1_000_000:
            continue
        if sum(table.name in n.input for n in g.node) != 1:  # shared with another node: leave it
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(table).astype("float16"), f"{table.name}_fp16")
        g.initializer.remove(table)
        g.initializer.append(half)
        out = node.output[0]
        node.input[0] = half.name
        node.output[0] = f"{out}_fp16"
        cast = helper.make_node("Cast", [node.output[0]], [out], name=f"{node.name}/fp32", to=onnx.TensorProto.FLOAT)
        g.node.insert(at + 1, cast)
        onnx.save(model, str(path))
        return
