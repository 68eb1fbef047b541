"""A small GGUF header parser for tests: key/values and tensor infos from a file's first bytes.

`gguf.GGUFReader` needs the whole tensor data region on disk; this reads only what a client
fetching the start of a multi-gigabyte file has, and tells where the header ends.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass
class Header:
    version: int
    metadata: dict[str, Any]
    tensors: list[tuple[str, tuple[int, ...], int, int]]
    length: int


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise EOFError("header continues beyond the bytes fetched")
        (value,) = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if self.offset + length > len(self.data):
            raise EOFError("header continues beyond the bytes fetched")
        text = self.data[self.offset : self.offset + length].decode()
        self.offset += length
        return text

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.unpack("<I"), self.unpack("<Q")
            return [self.value(item_kind) for _ in range(count)]
        return self.unpack(_SCALARS[kind])


def read_header(data: bytes) -> Header:
    """Parse magic, version, key/values and tensor infos; EOFError if `data` stops short."""
    cursor = _Cursor(data)
    if data[:4] != b"GGUF":
        raise ValueError("not a GGUF file")
    cursor.offset = 4
    version = cursor.unpack("<I")
    tensor_count, kv_count = cursor.unpack("<Q"), cursor.unpack("<Q")
    metadata = {}
    for _ in range(kv_count):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.unpack("<I"))
    tensors = []
    for _ in range(tensor_count):
        name = cursor.string()
        dims = tuple(cursor.unpack("<Q") for _ in range(cursor.unpack("<I")))
        tensors.append((name, dims, cursor.unpack("<I"), cursor.unpack("<Q")))
    return Header(version, metadata, tensors, cursor.offset)
