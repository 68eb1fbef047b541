"""GGUF files written by llama.cpp's own `gguf.GGUFWriter`, for the header and memory tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGUFEndian, GGUFWriter


@dataclass(frozen=True)
class Written:
    data: bytes
    kv_end: int  # where the key/value section ends and tensor infos begin


def write_gguf(
    path: Path,
    configure: Callable[[GGUFWriter], None] = lambda writer: None,
    *,
    arch: str = "llama",
    endianess: GGUFEndian = GGUFEndian.LITTLE,
) -> Written:
    writer = GGUFWriter(path, arch, endianess=endianess)
    configure(writer)
    writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    kv_end = path.stat().st_size
    writer.write_tensors_to_file()
    writer.close()
    return Written(path.read_bytes(), kv_end)
