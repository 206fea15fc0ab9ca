"""A variable-length variant of the exported encoder/decoder, for live recognition.

Why: the exported encoder takes exactly 30 s of log-mel (3000 frames) and the decoder
exactly 1500 audio positions. On 2 CPU cores that costs ~1 s per encoder call and ~20 ms
per decoder step however little audio there is, which is too slow for a live transcript
updated every half second. Nothing in the graphs depends on the length except the
encoder's positional-embedding table and the declared input shapes, so this module copies
the exported ONNX files with (a) the table sliced to the input length inside the graph and
(b) the length axes declared symbolic. With 3000 frames the result is the original model
(same numbers); with fewer it is Whisper run on the audio actually present.

The edit is a graph rewrite with the ``onnx`` package (no torch), done once per model and
precision and cached beside the export as ``<export>-trimmed/``.

The file job decodes with this decoder too (given 1500 positions it gives the same tokens,
word times and probabilities as the export's, measured on the 332 s long-form file), so a
process running file jobs and a live session holds one decoder; only the encoder is loaded
twice, since the variable-length encoder's numbers on 30 s differ slightly from the export's.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from engine.errors import ModelError
from engine.models.export_manifest import EXPORT_MANIFEST, has_precision
from engine.models.store import ModelProgress

log = logging.getLogger("minutes.asr")

FRAMES_AXIS = "frames"
POSITIONS_AXIS = "positions"
_POSITIONAL = "model.encoder.positional_embedding"


def variable_length_dir(folder: Path) -> Path:
    """Where the variable-length copy of an export folder lives."""
    return folder.parent / f"{folder.name}-trimmed"  # the name earlier versions cached it under


def is_variable_length(folder: Path, precision: str) -> bool:
    return has_precision(folder, precision)


def ensure_variable_length(folder: Path, precision: str, progress: ModelProgress | None = None) -> Path:
    """The folder of a variable-length copy of ``folder``'s ``precision`` export (made on first use).

    ``progress(stage, fraction)`` hears of each step while the copy is made (a few seconds)."""
    out = variable_length_dir(folder)
    if is_variable_length(out, precision):
        return out
    src = folder / precision
    if not ((src / "encoder.onnx").exists() and (src / "decoder.onnx").exists()):
        raise ModelError(f"'{src}' has no exported encoder/decoder: export the model first.")
    out.mkdir(parents=True, exist_ok=True)
    log.info("Preparing the live-recognition copy of the model in %s", out)
    try:
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            if progress:
                progress("Preparing the variable-length encoder", 0.0)
            _edit_encoder(src / "encoder.onnx", Path(tmp) / "encoder.onnx")
            if progress:
                progress("Preparing the variable-length decoder", 0.3)
            _edit_decoder(src / "decoder.onnx", Path(tmp) / "decoder.onnx")
            target = out / precision
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
            os.mkdir(tmp)  # TemporaryDirectory removes the (now empty) path
        for name in (EXPORT_MANIFEST, "tokenizer.json"):
            shutil.copyfile(folder / name, out / name)
        if progress:
            progress("Model ready", 1.0)
    except OSError as e:
        raise ModelError(f"Cannot write the live-recognition model to '{out}': {e.strerror or e}.") from e
    return out


def _symbolic(value_info, axis: int, name: str) -> None:
    dim = value_info.type.tensor_type.shape.dim[axis]
    dim.Clear()
    dim.dim_param = name


def _save(model, path: Path) -> None:
    import onnx

    big = model.ByteSize() > 1_900_000_000  # protobuf's 2 GB limit: larger models keep external data
    onnx.save(model, str(path), save_as_external_data=big)


def _edit_encoder(src: Path, dst: Path) -> None:
    """Slice the positional table to the input length; declare the frames and positions axes free."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(src))
    g = model.graph
    adds = [n for n in g.node if n.op_type == "Add" and _POSITIONAL in n.input]
    if len(adds) != 1:
        raise ModelError(f"'{src}' does not look like this app's Whisper encoder export (no positional table).")
    add = adds[0]
    x = next(i for i in add.input if i != _POSITIONAL)
    # positions = x.shape[1]; table[:positions]
    new_nodes = [
        helper.make_node("Shape", [x], ["trim_shape"], name="trim/Shape"),
        helper.make_node("Slice", ["trim_shape", "trim_one", "trim_two"], ["trim_len"], name="trim/Len"),
        helper.make_node("Slice", [_POSITIONAL, "trim_zero", "trim_len", "trim_zero"], ["trim_pos"], name="trim/Pos"),
    ]
    g.initializer.extend(
        [
            helper.make_tensor("trim_zero", TensorProto.INT64, [1], [0]),
            helper.make_tensor("trim_one", TensorProto.INT64, [1], [1]),
            helper.make_tensor("trim_two", TensorProto.INT64, [1], [2]),
        ]
    )
    add.input[list(add.input).index(_POSITIONAL)] = "trim_pos"
    at = list(g.node).index(add)
    for k, node in enumerate(new_nodes):
        g.node.insert(at + k, node)
    del g.value_info[:]  # inferred shapes carry the fixed length
    _symbolic(g.input[0], 2, FRAMES_AXIS)
    for out in g.output:
        _symbolic(out, 3 if out.name.startswith("cross_k") else 2, POSITIONS_AXIS)
    _save(model, dst)


def _edit_decoder(src: Path, dst: Path) -> None:
    """Declare the audio-positions axis of the cross-attention inputs free."""
    import onnx

    model = onnx.load(str(src))
    g = model.graph
    found = 0
    for inp in g.input:
        if inp.name.startswith("cross_"):
            _symbolic(inp, 3 if inp.name.startswith("cross_k") else 2, POSITIONS_AXIS)
            found += 1
    if not found:
        raise ModelError(f"'{src}' does not look like this app's Whisper decoder export (no cross inputs).")
    del g.value_info[:]
    _save(model, dst)
