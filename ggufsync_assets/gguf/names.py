"""What a file path inside a GGUF repository says: quantization, split part, projector, importance matrix.

The Hub lists file names long before anything is downloaded, so the catalogue learns most of what it
knows about a file from its name alone. Everything here is a pure function of the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gguf import GGMLQuantizationType, LlamaFileType

GGUF_SUFFIX = ".gguf"
UNSLOTH_DYNAMIC_PREFIX = "UD-"

# Labels the gguf package does not know (it only lists what llama.cpp itself produces today):
# bartowski's _L/_XL and unsloth's _XL mixes (embeddings/output kept at higher precision), and the
# ARM repacks that llama.cpp removed from its file types in favour of repacking at load time.
_COMMUNITY_LABELS = frozenset(
    {
        "Q2_K_L",
        "Q2_K_XL",
        "Q3_K_XL",
        "Q4_K_L",
        "Q4_K_XL",
        "Q5_K_L",
        "Q5_K_XL",
        "Q6_K_L",
        "Q6_K_XL",
        "Q8_K_XL",
        "Q4_0_4_4",
        "Q4_0_4_8",
        "Q4_0_8_8",
    }
)
# Spellings people use that llama.cpp never writes.
_ALIASES = {"FP16": "F16", "FP32": "F32"}

_FILE_TYPE_PREFIXES = ("MOSTLY_", "ALL_")


def _file_type_label(member: LlamaFileType) -> str | None:
    for prefix in _FILE_TYPE_PREFIXES:
        if member.name.startswith(prefix):
            return member.name.removeprefix(prefix)
    return None  # GUESSED: a marker, not a quantization


def _is_integer_tensor_type(name: str) -> bool:
    """I8..I64 describe individual tensors, never a whole model file."""
    return name.startswith("I") and name[1:].isdigit()


_FILE_TYPE_LABELS: dict[int, str] = {
    int(member): label for member in LlamaFileType if (label := _file_type_label(member)) is not None
}
_BASE_LABELS = (
    frozenset(_FILE_TYPE_LABELS.values())
    | {member.name for member in GGMLQuantizationType if not _is_integer_tensor_type(member.name)}
    | _COMMUNITY_LABELS
)
_LABELS = _BASE_LABELS | {UNSLOTH_DYNAMIC_PREFIX + label for label in _BASE_LABELS}

_CANONICAL: dict[str, str] = {label: label for label in _LABELS} | _ALIASES


def _token(pattern: str) -> str:
    """A token is delimited by anything that is not a letter or digit (`.`, `-`, `_`, edges)."""
    return rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])"


# Longest spelling first, so the alternation prefers Q4_K_M over Q4_K and IQ2_XXS over IQ2_XS.
_QUANT_RE = re.compile(
    _token("|".join(re.escape(s) for s in sorted(_CANONICAL, key=lambda s: (-len(s), s)))),
    re.IGNORECASE,
)
_MMPROJ_RE = re.compile(_token("mmproj"), re.IGNORECASE)
# llama-imatrix's output (GGUF since 2025): "imatrix.gguf", "<model>.imatrix.gguf"; data for
# quantizing, not weights. Weights quantized with one carry "imatrix" elsewhere in their names, if at all.
_IMATRIX_DATA_RE = re.compile(r"(?<![A-Za-z0-9])imatrix$", re.IGNORECASE)
# Files over the Hub's 50 GB limit cut with `split` (joined again with `cat`): TheBloke's
# "<name>.gguf-split-a", "-split-b", ... and mradermacher's "<name>.gguf.part1of2", "part2of2";
# only the first part starts with the GGUF header.
_BYTE_SPLIT_RE = re.compile(
    r"^(?P<logical>.+\.gguf)(?:-split-(?P<letter>[a-z])|\.part(?P<index>\d{1,3})of(?P<count>\d{1,3}))$",
    re.IGNORECASE,
)
# llama.cpp gguf-split writes "<prefix>-00001-of-00003.gguf"; some uploads insert "-split".
_SPLIT_RE = re.compile(
    r"^(?P<prefix>.+?)-(?:split-)?(?P<index>\d{1,5})-of-(?P<count>\d{1,5})(?P<suffix>\.gguf)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GgufFileName:
    """Facts read from a .gguf path; split parts share `logical_file`. A part cut with `split`
    (`byte_split`) knows its index, and its count when its name says (`.part1of2`); a `-split-a`
    part's siblings tell how many there are."""

    path: str
    quantization: str | None
    split_index: int | None
    split_count: int | None
    logical_file: str
    is_mmproj: bool
    is_imatrix: bool
    byte_split: bool = False


def quantization_labels() -> frozenset[str]:
    """Every canonical label `describe` can return."""
    return _LABELS


def label_for_file_type(file_type: int) -> str | None:
    """The canonical label of a header's general.file_type, so headers and names compare directly."""
    return _FILE_TYPE_LABELS.get(file_type)


def file_type_labels() -> frozenset[str]:
    """The labels a header's general.file_type can have: only a name carrying one of these can be
    compared with its header (an Unsloth dynamic or community label has no file type of its own)."""
    return frozenset(_FILE_TYPE_LABELS.values())


def is_gguf_path(path: str) -> bool:
    """A .gguf file, or a part of one cut with `split`."""
    name = path.rsplit("/", 1)[-1]
    if len(name) > len(GGUF_SUFFIX) and name.lower().endswith(GGUF_SUFFIX):
        return True
    cut = _BYTE_SPLIT_RE.match(name)
    return cut is not None and len(cut["logical"]) > len(GGUF_SUFFIX) and _part_of(cut) is not None


def _part_of(cut: re.Match[str]) -> tuple[int, int | None] | None:
    """A byte-split part's index and (when its name says) count; None for a numbering that cannot be."""
    if cut["letter"]:
        return ord(cut["letter"].lower()) - ord("a") + 1, None
    index, count = int(cut["index"]), int(cut["count"])
    return (index, count) if 1 <= index <= count else None


def _quantization_in(text: str) -> str | None:
    """The rightmost label: quantization comes last in every naming scheme seen on the Hub."""
    matches = list(_QUANT_RE.finditer(text))
    if not matches:
        return None
    return _CANONICAL[matches[-1].group(0).upper()]


def describe(path: str) -> GgufFileName | None:
    """None for anything that is not a .gguf file."""
    if not is_gguf_path(path):
        return None
    folder, _, name = path.rpartition("/")
    split_index = split_count = None
    logical_name = name
    if (cut := _BYTE_SPLIT_RE.match(name)) is not None and (part := _part_of(cut)) is not None:
        logical_name = cut["logical"]
        split_index, split_count = part
    stem = logical_name[: -len(GGUF_SUFFIX)]
    if cut is None and (split := _SPLIT_RE.match(name)) is not None:
        index, count = int(split["index"]), int(split["count"])
        if 1 <= index <= count:
            split_index, split_count = index, count
            stem = split["prefix"]
            logical_name = stem + split["suffix"]

    quantization = _quantization_in(stem)
    for folder_name in reversed(folder.split("/") if folder else []):
        if quantization is not None:
            break
        quantization = _quantization_in(folder_name)

    return GgufFileName(
        path=path,
        quantization=quantization,
        split_index=split_index,
        split_count=split_count,
        logical_file=path[: len(path) - len(name)] + logical_name,
        is_mmproj=_MMPROJ_RE.search(stem) is not None,
        is_imatrix=_IMATRIX_DATA_RE.search(stem) is not None,
        byte_split=cut is not None,
    )
