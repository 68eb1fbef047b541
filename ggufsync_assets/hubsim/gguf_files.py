"""Real GGUF headers for the simulated files, laid out as llama.cpp's own `gguf.GGUFWriter` writes them.

A served .gguf file is its header (magic, key/values, tokenizer, tensor infos, alignment padding)
followed by zero filler up to the advertised size. A header is laid out on first request (and kept in
a bounded LRU) from the writer's key/values, except its tokenizer's token list and token types: they
are nearly all of its 0.5-6 MB and are generated block by block only as far as a read reaches. So
thousands of multi-gigabyte files cost nothing until a client reads one, and reading the first 64 KiB
of one costs a few thousand tokens, not the 150,000 of a whole header.
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from gguf import GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GGUFValueType, GGUFWriter, Keys, TokenType

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
    file_type_last: bool = False
    """llama-quantize since 2025 (ggml's gguf_set_val removes a key, then appends it) writes
    general.file_type and general.quantization_version after every key it copied, tokenizer included."""


_SYLLABLES = [c + v for c in "bcdfghjklmnprstv" for v in "aeio"]
TOKEN_BLOCK = 4096
"""Tokens generated at a time, about 50 KB of token list: a 64 KiB read of a header generates one or two."""


def _words(start: int, stop: int) -> list[str]:
    """Spellings of tokens `start` to `stop`: token i spells i in base 64, least significant syllable
    first ("ba", "be", ..., "babe", ...). Token 64q + r is syllable r followed by token q's spelling, so
    a block of tokens is spelled from the 64 times shorter block of their q's, 64 tokens at a time."""
    if stop <= len(_SYLLABLES):
        return _SYLLABLES[start:stop]
    low = max(start, len(_SYLLABLES))
    following = _words(low // 64, (stop - 1) // 64 + 1)
    spelled = [syllable + word for word in following for syllable in _SYLLABLES]
    skip = low % 64
    return _SYLLABLES[start:low] + spelled[skip : skip + stop - low]


def _markers(tokenizer: Tokenizer) -> tuple[str, str]:
    """What starts two tokens out of three (a word-start marker), and what starts the third: nothing
    (BPE, SentencePiece: the token continues a word) or "##" (WordPiece, which marks continuations)."""
    space = {"gpt2": "Ġ", "llama": "▁"}.get(tokenizer.model, "")
    return space, "" if space else "##"


@lru_cache(maxsize=32)  # the catalogue's families use 21 tokenizers
def _special_tokens(tokenizer: Tokenizer) -> dict[int, tuple[str, TokenType]]:
    """Tokens at their real ids in place of spelled ones, later entries replacing earlier ones:
    SentencePiece's unknown and 256 byte tokens, then the beginning and end of sequence."""
    special: dict[int, tuple[str, TokenType]] = {}
    if tokenizer.model == "llama":
        special[0] = ("<unk>", TokenType.UNKNOWN)
        for byte in range(256):
            if byte + 3 < tokenizer.vocab_size:
                special[byte + 3] = (f"<0x{byte:02X}>", TokenType.BYTE)
    special[tokenizer.bos_id] = (tokenizer.bos, TokenType.CONTROL)
    special[tokenizer.eos_id] = (tokenizer.eos, TokenType.CONTROL)
    return special


def _token_texts(tokenizer: Tokenizer, start: int, stop: int) -> list[str]:
    """Deterministic, unique token strings of ids `start` to `stop`."""
    space, bare = _markers(tokenizer)
    texts = [(space if index % 3 else bare) + word for index, word in enumerate(_words(start, stop), start)]
    for token_id, (text, _) in _special_tokens(tokenizer).items():
        if start <= token_id < stop:
            texts[token_id - start] = text
    return texts


@lru_cache(maxsize=512)  # about 50 KB each; every file of a family repeats its tokenizer's blocks
def _token_list_block(tokenizer: Tokenizer, block: int) -> bytes:
    """Block `block` of the token list's elements as GGUF encodes strings: u64 length, UTF-8 bytes."""
    start = block * TOKEN_BLOCK
    texts = _token_texts(tokenizer, start, min(start + TOKEN_BLOCK, tokenizer.vocab_size))
    encoded = [text.encode() for text in texts]
    return b"".join(struct.pack("<Q", len(data)) + data for data in encoded)


def _token_type_block(tokenizer: Tokenizer, block: int) -> bytes:
    """Block `block` of the token types, little-endian int32s (numpy makes it too cheap to cache)."""
    start = block * TOKEN_BLOCK
    types = np.full(min(TOKEN_BLOCK, tokenizer.vocab_size - start), TokenType.NORMAL, dtype="<i4")
    for token_id, (_, token_type) in _special_tokens(tokenizer).items():
        if start <= token_id < start + len(types):
            types[token_id - start] = token_type
    return types.tobytes()


@lru_cache(maxsize=32)
def _token_list_length(tokenizer: Tokenizer) -> int:
    """Bytes of the token list's elements, counted without spelling them, so that a read past a header
    need not generate it: each token is a u64 length, its marker and two bytes per base-64 digit of
    its id, except the special tokens, which replace spelled ones."""
    count = tokenizer.vocab_size
    space, bare = (len(marker.encode()) for marker in _markers(tokenizer))
    bare_count = (count + 2) // 3  # the ids divisible by three
    length = 8 * count + space * (count - bare_count) + bare * bare_count + 2 * count
    power = 64
    while power < count:  # ids from 64**k on have a (k+1)th digit
        length += 2 * (count - power)
        power *= 64
    for token_id, (text, _) in _special_tokens(tokenizer).items():
        spelled = (space if token_id % 3 else bare) + len(_words(token_id, token_id + 1)[0])
        length += len(text.encode()) - spelled
    return length


@dataclass(frozen=True, slots=True)
class TokenArray:
    """A tokenizer's token list (`element` STRING) or token types (INT32) as GGUF encodes an array
    value: element type, element count, elements. The elements are generated `TOKEN_BLOCK` tokens at a
    time as a read reaches them: they are nearly all of a header, and most reads want its start."""

    tokenizer: Tokenizer
    element: Literal[GGUFValueType.STRING, GGUFValueType.INT32]

    @property
    def length(self) -> int:
        count = self.tokenizer.vocab_size
        elements = _token_list_length(self.tokenizer) if self.element is GGUFValueType.STRING else 4 * count
        return struct.calcsize("<IQ") + elements

    def chunks(self) -> Iterator[bytes]:
        yield struct.pack("<IQ", self.element, self.tokenizer.vocab_size)
        block = _token_list_block if self.element is GGUFValueType.STRING else _token_type_block
        for index in range(-(-self.tokenizer.vocab_size // TOKEN_BLOCK)):
            yield block(self.tokenizer, index)


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
    if not spec.file_type_last:
        writer.add_file_type(quantization(spec.quant).file_type)
        writer.add_quantization_version(2)
    writer.add_tokenizer_model(family.tokenizer.model)
    tokens = TokenArray(family.tokenizer, GGUFValueType.STRING)
    types = TokenArray(family.tokenizer, GGUFValueType.INT32)
    writer.add_key_value(Keys.Tokenizer.LIST, tokens, GGUFValueType.ARRAY)
    writer.add_key_value(Keys.Tokenizer.TOKEN_TYPE, types, GGUFValueType.ARRAY)
    writer.add_bos_token_id(family.tokenizer.bos_id)
    writer.add_eos_token_id(family.tokenizer.eos_id)
    if family.tokenizer.chat_template is not None:
        writer.add_chat_template(family.tokenizer.chat_template)
    if spec.file_type_last:
        writer.add_file_type(quantization(spec.quant).file_type)
        writer.add_quantization_version(2)


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


@dataclass(frozen=True, slots=True)
class LazyHeader:
    """A file's bytes up to where its tensor data starts, as its parts in file order: packed bytes
    and token arrays, which are generated only when read. `length` is known without generating them."""

    parts: tuple[bytes | TokenArray, ...]
    length: int

    def chunks(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
            else:
                yield from part.chunks()


class HeaderWriter(GGUFWriter):
    """A GGUFWriter holding one simulated file's key/values and tensor infos, which lays its header out
    as a `LazyHeader` instead of writing a file: in the order and encoding of `write_header_to_file`,
    `write_kv_data_to_file` and `write_ti_data_to_file`, with the writer's own value packing, then
    zeros up to the data alignment, as llama.cpp writes it.

    Split shards follow gguf-split: the first carries all metadata, the others only the architecture,
    and every shard carries `split.no`, `split.count` and `split.tensors.count`.
    """

    def __init__(self, spec: GGUFSpec) -> None:
        super().__init__(None, "clip" if spec.kind == "mmproj" else spec.family.architecture)
        if spec.kind == "mmproj":
            _add_projector_metadata(self, spec)
        elif spec.split_no == 0:
            _add_model_metadata(self, spec)
        if spec.split_count > 1:
            self.add_uint16(Keys.Split.LLM_KV_SPLIT_NO, spec.split_no)
            self.add_uint16(Keys.Split.LLM_KV_SPLIT_COUNT, spec.split_count)
            self.add_int32(Keys.Split.LLM_KV_SPLIT_TENSORS_COUNT, 2 * spec.split_count + 1)
        for name, length in _tensors(spec):
            self.add_tensor_info(name, [length], np.dtype(np.float32), length * 4)

    def layout(self) -> LazyHeader:
        (kv_data,), (tensors,) = self.kv_data, self.tensors
        packed = bytearray()
        packed += self._pack("<I", GGUF_MAGIC, skip_pack_prefix=True)
        packed += (
            self._pack("I", GGUF_VERSION) + self._pack("Q", len(tensors)) + self._pack("Q", len(kv_data))
        )
        parts: list[bytes | TokenArray] = []
        for key, value in kv_data.items():
            packed += self._pack_val(key, GGUFValueType.STRING, add_vtype=False)
            if isinstance(value.value, TokenArray):
                packed += self._pack("I", GGUFValueType.ARRAY)
                parts += [bytes(packed), value.value]
                packed.clear()
            else:
                packed += self._pack_val(value.value, value.type, add_vtype=True, sub_type=value.sub_type)
        offset = 0
        for name, info in tensors.items():
            packed += self._pack_val(name, GGUFValueType.STRING, add_vtype=False)
            packed += self._pack("I", len(info.shape))
            for dimension in reversed(info.shape):
                packed += self._pack("Q", dimension)
            packed += self._pack("I", info.dtype) + self._pack("Q", offset)
            offset += self.ggml_pad(info.nbytes, self.data_alignment)
        length = sum(len(part) if isinstance(part, bytes) else part.length for part in parts) + len(packed)
        packed += bytes(-length % self.data_alignment)
        return LazyHeader((*parts, bytes(packed)), self.ggml_pad(length, self.data_alignment))


def build_header(spec: GGUFSpec) -> LazyHeader:
    """The header of a file of this spec, its tokenizer not generated yet."""
    return HeaderWriter(spec).layout()


def tensor_data_length(spec: GGUFSpec) -> int:
    """Bytes of tensor data right after the header (zeros here), which readers map along with it."""
    return sum(GGUFWriter.ggml_pad(length * 4, GGUF_DEFAULT_ALIGNMENT) for _, length in _tensors(spec))


class HeaderCache:
    """Bounded LRU of laid-out headers: laying one out packs a few dozen key/values (a fraction of a
    millisecond); the token blocks it shares with the files of its tokenizer are cached apart."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = max(1, capacity)
        self._entries: OrderedDict[GGUFSpec, LazyHeader] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, spec: GGUFSpec) -> LazyHeader:
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


def iter_content(prefix: bytes | LazyHeader, start: int, stop: int) -> Iterator[bytes]:
    """Bytes `start` to `stop` (exclusive) of a file made of `prefix` followed by zero filler. A
    header's parts are generated only as far as `stop`, and not at all for a range past them."""
    length, chunks = (
        (len(prefix), (prefix,)) if isinstance(prefix, bytes) else (prefix.length, prefix.chunks())
    )
    position = 0
    for chunk in chunks if start < length else ():
        end = position + len(chunk)
        if end > start:
            yield chunk[max(start - position, 0) : stop - position]
        position = end
        if position >= stop:
            break
    position = max(start, length)
    while position < stop:
        step = min(FILLER_CHUNK, stop - position)
        yield _ZEROS if step == FILLER_CHUNK else _ZEROS[:step]
        position += step
