"""Real GGUF headers for the simulated files, written with llama.cpp's own `gguf.GGUFWriter`.

A served .gguf file is its header (magic, key/values, tokenizer, tensor infos, alignment padding)
followed by zero filler up to the advertised size. Headers are built on first request and kept in a
bounded LRU, so thousands of multi-gigabyte files cost nothing until a client reads one.
"""

from __future__ import annotations

import struct
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from gguf import GGUF_DEFAULT_ALIGNMENT, GGUFValueType, GGUFWriter, Keys, TokenType

from ggufsync_assets.hubsim.families import Family, Tokenizer, quantization

FILLER_CHUNK = 1 << 20
_ZEROS = bytes(FILLER_CHUNK)

_PROJECTOR_TYPES = {"gemma3": "gemma3", "qwen2vl": "qwen2.5vl", "llama": "pixtral"}
_VISION_EMBEDDING = 1152


@dataclass(frozen=True, slots=True)
class GGUFSpec:
    """Everything a file's header depends on; equal specs give byte-identical headers."""

    family: Family
    quant: str
    model_name: str
    kind: Literal["model", "mmproj"] = "model"
    split_no: int = 0
    split_count: int = 1
    quantized_by: str | None = None


@lru_cache(maxsize=2)  # the strings are large; `_encoded_vocabulary` keeps what headers need
def _vocabulary(tokenizer: Tokenizer) -> tuple[list[str], list[int]]:
    """Deterministic token strings (unique, special tokens at their real ids) and their token types."""
    words = _words(tokenizer.vocab_size)
    space = {"gpt2": "Ġ", "llama": "▁"}.get(tokenizer.model, "")
    bare = "" if space else "##"  # every third token has no word-start marker (BPE) or continues one
    tokens = [(space if index % 3 else bare) + word for index, word in enumerate(words)]
    types = [int(TokenType.NORMAL)] * tokenizer.vocab_size
    if tokenizer.model == "llama":
        tokens[0], types[0] = "<unk>", TokenType.UNKNOWN
        for byte in range(256):
            if byte + 3 < tokenizer.vocab_size:
                tokens[byte + 3], types[byte + 3] = f"<0x{byte:02X}>", TokenType.BYTE
    for token_id, text in ((tokenizer.bos_id, tokenizer.bos), (tokenizer.eos_id, tokenizer.eos)):
        tokens[token_id], types[token_id] = text, TokenType.CONTROL
    return tokens, types


_SYLLABLES = [c + v for c in "bcdfghjklmnprstv" for v in "aeio"]


def _words(count: int) -> list[str]:
    """Token `i` spells i in base 64, least significant syllable first: "ba", "be", ..., "baba", ...
    Token 64q + r is syllable r followed by token q's spelling, so the list grows 64 tokens at a time
    (a 256,000-token vocabulary in tens of milliseconds; a loop per token took a quarter of a second)."""
    words = _SYLLABLES[:count]
    following = 1
    while len(words) < count:
        words += [syllable + words[following] for syllable in _SYLLABLES]
        following += 1
    return words[:count]


@dataclass(frozen=True, slots=True)
class _Encoded:
    """An array value already in its GGUF encoding (element type, count, elements)."""

    encoded: bytes


class _Writer(GGUFWriter):
    """GGUFWriter that writes `_Encoded` arrays as they are: packing 150,000 token strings value by
    value is most of a header's build time, and every file of a family repeats the same arrays."""

    def _pack_val(
        self, val: Any, vtype: GGUFValueType, add_vtype: bool, sub_type: GGUFValueType | None = None
    ) -> bytes:
        if isinstance(val, _Encoded):
            return (self._pack("I", vtype) if add_vtype else b"") + val.encoded
        return super()._pack_val(val, vtype, add_vtype, sub_type)


@lru_cache(maxsize=32)  # a few MB each; the catalogue's families use 21 tokenizers
def _encoded_vocabulary(tokenizer: Tokenizer) -> tuple[_Encoded, _Encoded]:
    """The token list and token types of a tokenizer, encoded once, as GGUFWriter encodes arrays
    (little-endian element type, element count, elements), but with struct and numpy in bulk."""
    tokens, types = _vocabulary(tokenizer)
    strings = [text.encode("utf-8") for text in tokens]
    string_array = b"".join(
        [
            struct.pack("<IQ", GGUFValueType.STRING, len(strings)),
            *(struct.pack("<Q", len(b)) + b for b in strings),
        ]
    )
    int_array = struct.pack("<IQ", GGUFValueType.INT32, len(types)) + np.asarray(types, dtype="<i4").tobytes()
    return _Encoded(string_array), _Encoded(int_array)


def _tensors(spec: GGUFSpec) -> list[tuple[str, int]]:
    """A few small F32 tensors (name, length): enough for readers to see a tensor section."""
    if spec.kind == "mmproj":
        return [("v.post_ln.weight", _VISION_EMBEDDING), ("v.post_ln.bias", _VISION_EMBEDDING)]
    width = spec.family.embedding_length
    block = spec.split_no * spec.family.block_count // spec.split_count
    tensors = [(f"blk.{block}.attn_norm.weight", width), (f"blk.{block}.ffn_norm.weight", width)]
    if spec.split_no == spec.split_count - 1:
        tensors.append(("output_norm.weight", width))
    return tensors


def _add_model_metadata(writer: GGUFWriter, spec: GGUFSpec) -> None:
    family = spec.family
    writer.add_type("model")
    writer.add_name(spec.model_name)
    writer.add_basename(family.name)
    writer.add_size_label(family.size_label)
    writer.add_license(family.license)
    if spec.quantized_by:
        writer.add_quantized_by(spec.quantized_by)
    writer.add_context_length(family.context_length)
    writer.add_block_count(family.block_count)
    writer.add_embedding_length(family.embedding_length)
    writer.add_feed_forward_length(family.feed_forward_length)
    writer.add_head_count(family.head_count)
    writer.add_head_count_kv(family.head_count_kv)
    writer.add_vocab_size(family.tokenizer.vocab_size)
    writer.add_file_type(quantization(spec.quant).file_type)
    writer.add_quantization_version(2)
    tokens, types = _encoded_vocabulary(family.tokenizer)
    writer.add_tokenizer_model(family.tokenizer.model)
    writer.add_key_value(Keys.Tokenizer.LIST, tokens, GGUFValueType.ARRAY)
    writer.add_key_value(Keys.Tokenizer.TOKEN_TYPE, types, GGUFValueType.ARRAY)
    writer.add_bos_token_id(family.tokenizer.bos_id)
    writer.add_eos_token_id(family.tokenizer.eos_id)
    if family.tokenizer.chat_template is not None:
        writer.add_chat_template(family.tokenizer.chat_template)


def _add_projector_metadata(writer: GGUFWriter, spec: GGUFSpec) -> None:
    writer.add_type("mmproj")
    writer.add_name(spec.model_name)
    writer.add_file_type(quantization(spec.quant).file_type)
    writer.add_bool(Keys.Clip.HAS_VISION_ENCODER, True)
    writer.add_string(Keys.Clip.PROJECTOR_TYPE, _PROJECTOR_TYPES.get(spec.family.architecture, "mlp"))
    writer.add_uint32(Keys.ClipVision.IMAGE_SIZE, 896)
    writer.add_uint32(Keys.ClipVision.EMBEDDING_LENGTH, _VISION_EMBEDDING)
    writer.add_uint32(Keys.ClipVision.BLOCK_COUNT, 27)
    writer.add_uint32(Keys.ClipVision.PROJECTION_DIM, spec.family.embedding_length)


def build_header(spec: GGUFSpec) -> bytes:
    """The file's bytes up to where its tensor data starts (aligned), as llama.cpp would write them.

    Split shards follow gguf-split: the first carries all metadata, the others only the architecture,
    and every shard carries `split.no`, `split.count` and `split.tensors.count`.
    """
    architecture = "clip" if spec.kind == "mmproj" else spec.family.architecture
    with tempfile.TemporaryDirectory(prefix="hubsim-gguf-") as folder:
        path = Path(folder) / "header.gguf"
        writer = _Writer(path, architecture)
        if spec.kind == "mmproj":
            _add_projector_metadata(writer, spec)
        elif spec.split_no == 0:
            _add_model_metadata(writer, spec)
        if spec.split_count > 1:
            writer.add_uint16(Keys.Split.LLM_KV_SPLIT_NO, spec.split_no)
            writer.add_uint16(Keys.Split.LLM_KV_SPLIT_COUNT, spec.split_count)
            writer.add_int32(Keys.Split.LLM_KV_SPLIT_TENSORS_COUNT, 2 * spec.split_count + 1)
        for name, length in _tensors(spec):
            writer.add_tensor_info(name, [length], np.dtype(np.float32), length * 4)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        writer.close()
        header = path.read_bytes()
    return header + bytes(-len(header) % GGUF_DEFAULT_ALIGNMENT)


def tensor_data_length(spec: GGUFSpec) -> int:
    """Bytes of tensor data right after the header (zeros here), which readers map along with it."""
    return sum(GGUFWriter.ggml_pad(length * 4, GGUF_DEFAULT_ALIGNMENT) for _, length in _tensors(spec))


class HeaderCache:
    """Bounded LRU of built headers; building a big-vocabulary header takes a few hundred ms."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = max(1, capacity)
        self._entries: OrderedDict[GGUFSpec, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, spec: GGUFSpec) -> bytes:
        with self._lock:
            if spec in self._entries:
                self._entries.move_to_end(spec)
                return self._entries[spec]
        header = build_header(spec)
        with self._lock:
            self.builds += 1
            self._entries[spec] = header
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return header


def iter_content(prefix: bytes, start: int, stop: int) -> Iterator[bytes]:
    """Bytes `start` to `stop` (exclusive) of a file made of `prefix` followed by zero filler."""
    position = start
    if position < len(prefix):
        end = min(stop, len(prefix))
        yield prefix[position:end]
        position = end
    while position < stop:
        step = min(FILLER_CHUNK, stop - position)
        yield _ZEROS if step == FILLER_CHUNK else _ZEROS[:step]
        position += step
