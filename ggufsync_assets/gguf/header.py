"""Header facts (architecture, attention shape, tokenizer, file type, splits) from a GGUF file's first bytes.

The catalogue fetches only a prefix of each file with a Range request, never the multi-gigabyte whole.
`gguf.GGUFReader` memory-maps a complete file and builds numpy views of every array element, so it can
neither accept a truncated prefix nor say how much more is needed; this module walks the key/value
section itself, skipping arrays (a tokenizer's 150k strings) by their lengths without materialising them;
only per-layer head counts, a few integers per layer, are read.
Layout: magic, u32 version, u64 tensor count, u64 key/value count, then key/value pairs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gguf import GGUF_MAGIC, GGUFValueType, Keys
from gguf.gguf_reader import READER_SUPPORTED_VERSIONS

from ggufsync_assets.gguf.names import label_for_file_type

MAGIC_BYTES = struct.pack("<I", GGUF_MAGIC)  # always little-endian, even in big-endian files
FIXED_HEADER_SIZE = 24  # magic, version, tensor count, key/value count

# Far beyond any real file; anything larger is corruption, and would make us allocate or loop absurdly.
MAX_LENGTH = 1 << 30
MAX_TENSOR_COUNT = 1 << 24
MAX_KV_COUNT = 1 << 20
MAX_LAYER_COUNT = 1 << 16  # llama.cpp allows 512 layers; a longer per-layer array is corruption

# The package keeps its own packing table private (GGUFWriter._simple_value_packing).
_SCALAR_FORMATS: dict[int, str] = {
    GGUFValueType.UINT8: "B",
    GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H",
    GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I",
    GGUFValueType.INT32: "i",
    GGUFValueType.FLOAT32: "f",
    GGUFValueType.BOOL: "?",
    GGUFValueType.UINT64: "Q",
    GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT64: "d",
}
_LENGTH_SIZE = 8
# Smallest possible key/value pair: empty key, type, one-byte value. Used for lower bounds only.
_MIN_KV_SIZE = _LENGTH_SIZE + 4 + 1

_VALUE_TYPES = frozenset(int(value_type) for value_type in GGUFValueType)
_INTEGER_TYPES = frozenset(
    int(value_type)
    for value_type in (
        GGUFValueType.UINT8,
        GGUFValueType.INT8,
        GGUFValueType.UINT16,
        GGUFValueType.INT16,
        GGUFValueType.UINT32,
        GGUFValueType.INT32,
        GGUFValueType.UINT64,
        GGUFValueType.INT64,
    )
)
# Head counts may be one number or one per layer (OpenELM, hybrid models); matched by suffix because
# the architecture key need not come first. `str.endswith` takes the tuple.
_PER_LAYER_SUFFIXES = tuple(
    key.format(arch="") for key in (Keys.Attention.HEAD_COUNT, Keys.Attention.HEAD_COUNT_KV)
)

Scalar = int | float | bool | str


class GgufHeaderError(ValueError):
    """The bytes are not a GGUF header this parser can trust."""


@dataclass(frozen=True, slots=True)
class GgufHeader:
    """What a header prefix revealed; fields stay None (`has_chat_template` False) when the prefix ended
    before them (`has_chat_template` None: the walk stopped at the tokenizer, see parse_header).

    Head counts given per layer hold their largest element: the memory estimate wants an upper bound.
    `vocab_size` is the element count of the token list, known from the array's own header even when
    the prefix ends among its strings. `bytes_needed` is a lower bound on the prefix length (counted from
    the start of the file) that holds the whole key/value section, or None when the header is complete;
    `bytes_likely` a likelier length, pricing the rest of a string array cut short at the mean size of
    its strings so far (a tokenizer's 150,000 tokens are the bulk of a header).
    """

    version: int | None
    tensor_count: int | None
    kv_count: int | None
    architecture: str | None
    name: str | None
    basename: str | None
    size_label: str | None
    context_length: int | None
    block_count: int | None
    embedding_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None
    value_length: int | None
    expert_count: int | None
    expert_used_count: int | None
    sliding_window: int | None
    tokenizer_model: str | None
    vocab_size: int | None
    has_chat_template: bool | None
    file_type: int | None
    quantization: str | None
    split_no: int | None
    split_count: int | None
    split_tensors_count: int | None
    header_complete: bool
    bytes_needed: int | None
    bytes_likely: int | None = None
    kv_end: int | None = None
    """Where the key/value section ends (complete headers): the prefix a read of this file needs."""
    stopped_at: int | None = None
    """Where a walk that stopped at the tokenizer's token list stopped: the prefix such a read needs."""


class _Truncated(Exception):
    """The prefix ended; `needed` is a lower bound on the prefix length that would have sufficed, and
    `likely` (at least `needed`) what it probably is."""

    def __init__(self, needed: int, likely: int | None = None) -> None:
        super().__init__(needed)
        self.needed = needed
        self.likely = max(needed, likely or needed)


class _Cursor:
    def __init__(self, data: bytes, byte_order: str) -> None:
        self.data = data
        self.pos = 0
        self.byte_order = byte_order
        self.structs = {fmt: struct.Struct(byte_order + fmt) for fmt in _SCALAR_FORMATS.values()}

    def unpack(self, fmt: str) -> int | float | bool:
        layout = self.structs[fmt]
        end = self.pos + layout.size
        if end > len(self.data):
            raise _Truncated(end)
        value: int | float | bool
        (value,) = layout.unpack_from(self.data, self.pos)
        self.pos = end
        return value

    def u32(self) -> int:
        return int(self.unpack("I"))

    def length(self, what: str) -> int:
        offset = self.pos
        value = int(self.unpack("Q"))
        if value > MAX_LENGTH:
            raise GgufHeaderError(f"{what} length {value} at offset {offset} exceeds {MAX_LENGTH} bytes")
        return value

    def string(self, what: str) -> str:
        size = self.length(what)
        end = self.pos + size
        if end > len(self.data):
            raise _Truncated(end)
        text = bytes(self.data[self.pos : end]).decode("utf-8", errors="replace")
        self.pos = end
        return text

    def value_type(self) -> int:
        offset = self.pos
        value_type = self.u32()
        if value_type not in _VALUE_TYPES:
            raise GgufHeaderError(f"unknown value type {value_type} at offset {offset}")
        return value_type

    def array_header(self, *, per_layer: bool) -> tuple[int, int]:
        """Element type and count, checked before any element is touched."""
        offset = self.pos
        element_type = self.value_type()
        count = int(self.unpack("Q"))
        if element_type == GGUFValueType.ARRAY:
            raise GgufHeaderError(f"nested array at offset {offset}; llama.cpp rejects these too")
        if count * self._element_size(element_type) > MAX_LENGTH:
            raise GgufHeaderError(f"array of {count} elements at offset {offset} exceeds {MAX_LENGTH} bytes")
        if per_layer and count > MAX_LAYER_COUNT:
            raise GgufHeaderError(
                f"per-layer array of {count} elements at offset {offset} exceeds {MAX_LAYER_COUNT} layers"
            )
        return element_type, count

    def skip_elements(self, element_type: int, count: int) -> None:
        if element_type == GGUFValueType.STRING:
            self._skip_strings(count)
            return
        end = self.pos + count * self._element_size(element_type)
        if end > len(self.data):
            raise _Truncated(end)
        self.pos = end

    def largest_per_layer(self, element_type: int, count: int) -> int | None:
        """The largest element of a per-layer integer array (at most MAX_LAYER_COUNT); None if empty."""
        offset = self.pos
        fmt = _SCALAR_FORMATS[element_type]
        end = offset + count * self.structs[fmt].size
        if end > len(self.data):
            raise _Truncated(end)
        elements = struct.unpack_from(f"{self.byte_order}{count}{fmt}", self.data, offset)
        self.pos = end
        return max(elements, default=None)

    def _element_size(self, element_type: int) -> int:
        if element_type == GGUFValueType.STRING:
            return _LENGTH_SIZE
        return self.structs[_SCALAR_FORMATS[element_type]].size

    def _skip_strings(self, count: int) -> None:
        """Walk the length prefixes only: no string is decoded or copied. The loop is the hot path of
        a sync's header reads (150,000 tokens a header), so it checks bounds by letting the length
        read fail, and works out how far the prefix fell short only then."""
        data, start, pos = self.data, self.pos, self.pos
        read_length = self.structs["Q"].unpack_from
        index = 0
        try:
            for index in range(count):  # noqa: B007 - `index` says where a short prefix ended
                (length,) = read_length(data, pos)
                if length > MAX_LENGTH:
                    raise GgufHeaderError(
                        f"string length {length} at offset {pos} exceeds {MAX_LENGTH} bytes"
                    )
                pos += _LENGTH_SIZE + length
        except struct.error:
            left = count - index  # strings whose length prefix is still to come, this one included
            mean = (pos - start) / index if index else _LENGTH_SIZE
            raise _Truncated(pos + left * _LENGTH_SIZE, round(pos + left * mean)) from None
        if pos > len(data):  # the last string runs past the prefix
            raise _Truncated(pos)
        self.pos = pos

    def value(self, value_type: int) -> Scalar:
        if value_type == GGUFValueType.STRING:
            return self.string("string value")
        return self.unpack(_SCALAR_FORMATS[value_type])


def verify_magic(data: bytes) -> bool:
    return bytes(data[:4]) == MAGIC_BYTES


def _byte_order(data: bytes) -> str:
    """GGUF has no endianness flag: a big-endian file shows its version in the high half when read as LE."""
    (version,) = struct.unpack_from("<I", data, 4)
    return ">" if version & 0xFFFF == 0 else "<"


def parse_header(data: bytes, *, stop_at_tokenizer: bool = False) -> GgufHeader:
    """Parse as much of the header as `data` (a prefix of the file) holds.

    With `stop_at_tokenizer`, the walk ends at the tokenizer's token list once the model's facts
    (architecture, context length, layers, embedding width, heads) have come before it, as llama.cpp's
    converters write them: the list and what follows it (merges, the chat template) are most of a
    header's bytes and none of those facts. The header is then complete for the catalogue, with
    `stopped_at` where it stopped and `has_chat_template` unknown.
    Raises GgufHeaderError for bytes that are not, or cannot be, a valid GGUF header.
    """
    if not verify_magic(data):
        if len(data) < len(MAGIC_BYTES) and MAGIC_BYTES.startswith(bytes(data)):
            return _incomplete(FIXED_HEADER_SIZE)
        raise GgufHeaderError(f"bad magic {bytes(data[:4])!r} at offset 0; expected {MAGIC_BYTES!r}")
    if len(data) < FIXED_HEADER_SIZE:
        return _incomplete(FIXED_HEADER_SIZE)

    cursor = _Cursor(data, _byte_order(data))
    cursor.pos = len(MAGIC_BYTES)
    version = cursor.u32()
    if version not in READER_SUPPORTED_VERSIONS:
        raise GgufHeaderError(
            f"unsupported GGUF version {version} at offset 4; supported: {READER_SUPPORTED_VERSIONS}"
        )
    tensor_count = int(cursor.unpack("Q"))
    if tensor_count > MAX_TENSOR_COUNT:
        raise GgufHeaderError(f"tensor count {tensor_count} at offset 8 exceeds {MAX_TENSOR_COUNT}")
    kv_count = int(cursor.unpack("Q"))
    if kv_count > MAX_KV_COUNT:
        raise GgufHeaderError(f"key/value count {kv_count} at offset 16 exceeds {MAX_KV_COUNT}")

    values: dict[str, Scalar] = {}
    array_counts: dict[str, int] = {}
    bytes_needed = bytes_likely = stopped_at = None
    for index in range(kv_count):
        try:
            start = cursor.pos
            key = cursor.string("key")
            value_type = cursor.value_type()
            if value_type != GGUFValueType.ARRAY:
                values[key] = cursor.value(value_type)
                continue
            per_layer = key.endswith(_PER_LAYER_SUFFIXES)
            element_type, count = cursor.array_header(per_layer=per_layer)
            array_counts[key] = count
            if stop_at_tokenizer and key == Keys.Tokenizer.LIST and _model_facts_known(values):
                stopped_at = start
                break
            if per_layer and element_type in _INTEGER_TYPES:
                if (largest := cursor.largest_per_layer(element_type, count)) is not None:
                    values[key] = largest
            else:
                cursor.skip_elements(element_type, count)
        except _Truncated as truncated:
            rest = (kv_count - index - 1) * _MIN_KV_SIZE
            bytes_needed, bytes_likely = truncated.needed + rest, truncated.likely + rest
            break
    return _header(
        version,
        tensor_count,
        kv_count,
        values,
        array_counts=array_counts,
        bytes_needed=bytes_needed,
        bytes_likely=bytes_likely,
        kv_end=cursor.pos if bytes_needed is None and stopped_at is None else None,
        stopped_at=stopped_at,
    )


MODEL_FACTS = (
    Keys.LLM.CONTEXT_LENGTH,
    Keys.LLM.BLOCK_COUNT,
    Keys.LLM.EMBEDDING_LENGTH,
    Keys.Attention.HEAD_COUNT,
)
"""The architecture keys the memory estimate cannot do without; a walk stops early only past them."""


def _model_facts_known(values: dict[str, Scalar]) -> bool:
    architecture = values.get(Keys.General.ARCHITECTURE)
    return isinstance(architecture, str) and all(
        key.format(arch=architecture) in values for key in MODEL_FACTS
    )


def _incomplete(bytes_needed: int) -> GgufHeader:
    return GgufHeader(
        version=None,
        tensor_count=None,
        kv_count=None,
        architecture=None,
        name=None,
        basename=None,
        size_label=None,
        context_length=None,
        block_count=None,
        embedding_length=None,
        head_count=None,
        head_count_kv=None,
        key_length=None,
        value_length=None,
        expert_count=None,
        expert_used_count=None,
        sliding_window=None,
        tokenizer_model=None,
        vocab_size=None,
        has_chat_template=False,
        file_type=None,
        quantization=None,
        split_no=None,
        split_count=None,
        split_tensors_count=None,
        header_complete=False,
        bytes_needed=bytes_needed,
    )


def _int(values: dict[str, Scalar], key: str) -> int | None:
    value = values.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(values: dict[str, Scalar], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) else None


def _header(
    version: int,
    tensor_count: int,
    kv_count: int,
    values: dict[str, Scalar],
    *,
    array_counts: dict[str, int],
    bytes_needed: int | None,
    bytes_likely: int | None,
    kv_end: int | None,
    stopped_at: int | None,
) -> GgufHeader:
    architecture = _str(values, Keys.General.ARCHITECTURE)

    def of_architecture(key: str) -> int | None:
        return _int(values, key.format(arch=architecture)) if architecture else None

    file_type = _int(values, Keys.General.FILE_TYPE)
    return GgufHeader(
        version=version,
        tensor_count=tensor_count,
        kv_count=kv_count,
        architecture=architecture,
        name=_str(values, Keys.General.NAME),
        basename=_str(values, Keys.General.BASENAME),
        size_label=_str(values, Keys.General.SIZE_LABEL),
        context_length=of_architecture(Keys.LLM.CONTEXT_LENGTH),
        block_count=of_architecture(Keys.LLM.BLOCK_COUNT),
        embedding_length=of_architecture(Keys.LLM.EMBEDDING_LENGTH),
        head_count=of_architecture(Keys.Attention.HEAD_COUNT),
        head_count_kv=of_architecture(Keys.Attention.HEAD_COUNT_KV),
        key_length=of_architecture(Keys.Attention.KEY_LENGTH),
        value_length=of_architecture(Keys.Attention.VALUE_LENGTH),
        expert_count=of_architecture(Keys.LLM.EXPERT_COUNT),
        expert_used_count=of_architecture(Keys.LLM.EXPERT_USED_COUNT),
        sliding_window=of_architecture(Keys.Attention.SLIDING_WINDOW),
        tokenizer_model=_str(values, Keys.Tokenizer.MODEL),
        vocab_size=array_counts.get(Keys.Tokenizer.LIST),
        has_chat_template=None
        if stopped_at is not None
        else _str(values, Keys.Tokenizer.CHAT_TEMPLATE) is not None,
        file_type=file_type,
        quantization=label_for_file_type(file_type) if file_type is not None else None,
        split_no=_int(values, Keys.Split.LLM_KV_SPLIT_NO),
        split_count=_int(values, Keys.Split.LLM_KV_SPLIT_COUNT),
        split_tensors_count=_int(values, Keys.Split.LLM_KV_SPLIT_TENSORS_COUNT),
        header_complete=bytes_needed is None,
        bytes_needed=bytes_needed,
        bytes_likely=bytes_likely,
        kv_end=kv_end,
        stopped_at=stopped_at,
    )
