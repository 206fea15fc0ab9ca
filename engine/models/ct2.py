"""Read CTranslate2 ``model.bin`` files (format v6) into numpy arrays.

We read the file ourselves rather than depend on ``ctranslate2``: the packaged weights are
a CTranslate2 export, and converting them to torch/ONNX needs only the raw tensors.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from engine.errors import ModelError

# CTranslate2 DataType enum order.
_DTYPES = {
    0: np.float32,
    1: np.int8,
    2: np.int16,
    3: np.int32,
    4: np.float16,
    5: np.uint16,  # bfloat16, kept as raw bits; converted below
}


class _Reader:
    def __init__(self, data: memoryview, path: Path):
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelError(
                f"Model file '{self.path}' is truncated or corrupt. Delete it so it is rebuilt, or reinstall the model."
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def string(self) -> str:
        n = self.u16()
        return bytes(self.take(n)).rstrip(b"\0").decode("utf-8")


def read_header(path: Path) -> tuple[int, str, int]:
    """(binary version, spec name, spec revision): a cheap check that a file is a CT2 model."""
    with open(path, "rb") as f:
        head = f.read(512)
    r = _Reader(memoryview(head), path)
    version = r.u32()
    if version < 2 or version > 10:
        raise ModelError(f"'{path}' is not a CTranslate2 model file (unknown format version {version}).")
    return version, r.string(), r.u32()


def read_model_bin(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """Return (spec name, variables). Scalars come back as 0-d arrays; aliases are resolved."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as e:
        raise ModelError(f"Cannot read model file '{path}': {e.strerror or e}.") from e
    r = _Reader(data, path)
    version = r.u32()
    if version != 6:
        raise ModelError(
            f"'{path}' uses CTranslate2 model format v{version}; this app reads v6 "
            "(convert it with a CTranslate2 4.x converter)."
        )
    spec = r.string()
    r.u32()  # spec revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(r.u32()):
        name = r.string()
        rank = r.u8()
        shape = tuple(r.u32() for _ in range(rank))
        dtype_id = r.u8()
        nbytes = r.u32()
        if dtype_id not in _DTYPES:
            raise ModelError(f"Model file '{path}' has an unknown tensor type ({dtype_id}) for '{name}'.")
        raw = r.take(nbytes)
        arr = np.frombuffer(raw, dtype=_DTYPES[dtype_id]).reshape(shape)
        if dtype_id == 5:  # bfloat16 bits -> float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        variables[name] = arr
    for _ in range(r.u32()):
        alias, target = r.string(), r.string()
        variables[alias] = variables[target]
    if r.pos != len(data):
        raise ModelError(f"Model file '{path}' has trailing data: it is corrupt. Delete it so it is rebuilt.")
    return spec, variables
