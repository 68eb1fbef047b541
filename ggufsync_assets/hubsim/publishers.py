"""Who publishes GGUF repos on the Hub, and how each names and lays out its files.

A handful of big publishers own a large share of GGUF repos, each with a recognisable quant menu,
file naming and shard layout; a long tail of small uploaders follows a few common conventions. The
generator draws authors and styles from these tables, in table order, so reordering a table changes
every generated repo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ggufsync_assets.hubsim.families import Family

_GB = 1_000_000_000
_K = ("Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K")
_I = ("IQ4_XS", "IQ4_NL", "IQ3_M")
# The full k-quant menu of 2023-era publishers (TheBloke, QuantFactory), smallest first.
_LEGACY = (
    "Q2_K",
    "Q3_K_S",
    "Q3_K_M",
    "Q3_K_L",
    "Q4_0",
    "Q4_K_S",
    "Q4_K_M",
    "Q5_0",
    "Q5_K_S",
    "Q5_K_M",
    "Q6_K",
    "Q8_0",
)

THEBLOKE_LAST_UPLOAD = datetime(2024, 1, 31, tzinfo=UTC)
"""TheBloke stopped publishing here, so none of its repos quantize a later model."""

BARTOWSKI_ORG_PREFIX_SINCE = datetime(2024, 12, 1, tzinfo=UTC)
"""From here on bartowski prefixes file names with the upstream organisation."""


OddNaming = Literal["model", "bare", "squashed"]
"""File names that carry no quantization label: `model.gguf`, `{stem}.gguf`, `{stem}-q4km.gguf`."""


@dataclass(frozen=True, slots=True)
class Style:
    """How a publisher names and lays out its GGUF repos.

    `menu` lists the quantizations it offers, each carried with probability `take`; `naming` and
    `split_naming` shape file names (an `OddNaming` hides the quantization; "bytes" is TheBloke's
    `<file>.gguf-split-a` and "parts" mradermacher's `<file>.gguf.part1of2`: parts cut with `split`,
    the first holding the header), `folder` where split shards go, and `shard_max` the size above
    which a file is split. `finetune_share` is how often it
    quantizes a finetune rather than the upstream model, and `boost` scales its downloads.
    """

    menu: tuple[str, ...]
    take: float
    naming: Literal["dash", "dot", "lower-dot", "lower-dash"] | OddNaming
    split_naming: Literal["llama", "split", "bytes", "parts"]
    folder: Literal["none", "quant", "file"]
    shard_max: int
    imatrix: str | None = None
    mmproj: tuple[str, ...] = ()
    finetune_share: float = 0.4
    boost: float = 1.0
    extra_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recipe:
    """What a generated repo was built from, so that edits can add files in the same style."""

    family: Family
    stem: str
    style: Style
    quantized_by: str
    quantized_since_2025: bool = False
    """Quantized by a llama.cpp that writes general.file_type last (GGUFSpec.file_type_last)."""


PUBLISHERS: dict[str, tuple[float, Style]] = {
    "mradermacher": (
        0.16,
        Style(
            menu=(
                "Q2_K",
                "Q3_K_S",
                "Q3_K_M",
                "Q3_K_L",
                "IQ4_XS",
                "Q4_K_S",
                "Q4_K_M",
                "Q5_K_S",
                "Q5_K_M",
                "Q6_K",
                "Q8_0",
                "f16",
            ),
            take=0.8,
            naming="dot",
            split_naming="parts",
            folder="none",
            shard_max=48 * _GB,
            finetune_share=0.75,
            boost=1.5,
        ),
    ),
    "bartowski": (
        0.12,
        Style(
            menu=(
                "F16",
                "Q8_0",
                "Q6_K_L",
                "Q6_K",
                "Q5_K_L",
                "Q5_K_M",
                "Q5_K_S",
                "Q4_K_L",
                "Q4_K_M",
                "Q4_K_S",
                "Q4_0",
                "IQ4_XS",
                "IQ4_NL",
                "Q3_K_XL",
                "Q3_K_L",
                "Q3_K_M",
                "IQ3_M",
                "Q3_K_S",
                "IQ3_XS",
                "IQ3_XXS",
                "Q2_K_L",
                "Q2_K",
                "IQ2_M",
                "IQ2_S",
                "IQ2_XS",
                "IQ2_XXS",
                "IQ1_M",
                "IQ1_S",
            ),
            take=0.7,
            naming="dash",
            split_naming="llama",
            folder="file",
            shard_max=48 * _GB,
            imatrix="{stem}.imatrix",
            mmproj=("mmproj-{stem}-f16.gguf",),
            finetune_share=0.3,
            boost=6,
            extra_tags=("imatrix",),
        ),
    ),
    "TheBloke": (
        0.05,
        Style(
            menu=_LEGACY,
            take=0.95,
            naming="lower-dot",
            split_naming="bytes",
            folder="none",
            shard_max=48 * _GB,
            finetune_share=0.4,
            boost=3,
        ),
    ),
    "unsloth": (
        0.05,
        Style(
            menu=(
                "BF16",
                "F16",
                "Q8_0",
                "Q6_K",
                "Q5_K_M",
                "Q5_K_S",
                "Q4_K_M",
                "Q4_K_S",
                "Q4_0",
                "Q4_1",
                "Q3_K_M",
                "Q3_K_S",
                "Q2_K",
                "Q2_K_L",
                "IQ4_XS",
                "IQ4_NL",
                "UD-Q8_K_XL",
                "UD-Q6_K_XL",
                "UD-Q5_K_XL",
                "UD-Q4_K_XL",
                "UD-Q3_K_XL",
                "UD-Q2_K_XL",
                "UD-IQ3_XXS",
                "UD-IQ2_M",
                "UD-IQ2_XXS",
                "UD-IQ1_M",
                "UD-IQ1_S",
            ),
            take=0.75,
            naming="dash",
            split_naming="llama",
            folder="quant",
            shard_max=49 * _GB,
            mmproj=("mmproj-F16.gguf", "mmproj-BF16.gguf", "mmproj-F32.gguf"),
            finetune_share=0.05,
            boost=6,
            extra_tags=("unsloth",),
        ),
    ),
    "QuantFactory": (
        0.05,
        Style(
            menu=_LEGACY,
            take=0.95,
            naming="dot",
            split_naming="split",
            folder="none",
            shard_max=45 * _GB,
            finetune_share=0.5,
        ),
    ),
    "lmstudio-community": (
        0.04,
        Style(
            menu=("Q3_K_L", "Q4_K_M", "Q6_K", "Q8_0"),
            take=1.0,
            naming="dash",
            split_naming="llama",
            folder="none",
            shard_max=48 * _GB,
            mmproj=("mmproj-model-f16.gguf",),
            finetune_share=0.05,
            boost=6,
        ),
    ),
    "MaziyarPanahi": (
        0.03,
        Style(
            menu=(
                "IQ1_S",
                "IQ1_M",
                "IQ2_XS",
                "IQ3_XS",
                "IQ4_XS",
                "Q2_K",
                "Q3_K_S",
                "Q3_K_M",
                "Q3_K_L",
                "Q4_K_S",
                "Q4_K_M",
                "Q5_K_S",
                "Q5_K_M",
                "Q6_K",
                "Q8_0",
                "fp16",
            ),
            take=0.9,
            naming="dot",
            split_naming="split",
            folder="none",
            shard_max=45 * _GB,
            finetune_share=0.3,
            boost=2,
        ),
    ),
    "second-state": (
        0.02,
        Style(
            menu=(
                "Q2_K",
                "Q3_K_L",
                "Q3_K_M",
                "Q3_K_S",
                "Q4_0",
                "Q4_K_M",
                "Q4_K_S",
                "Q5_0",
                "Q5_K_M",
                "Q5_K_S",
                "Q6_K",
                "Q8_0",
                "f16",
            ),
            take=0.95,
            naming="dash",
            split_naming="llama",
            folder="none",
            shard_max=45 * _GB,
            finetune_share=0.1,
        ),
    ),
    "ggml-org": (
        0.01,
        Style(
            menu=("Q4_K_M", "Q8_0", "F16"),
            take=0.7,
            naming="lower-dash",
            split_naming="llama",
            folder="none",
            shard_max=48 * _GB,
            mmproj=("mmproj-{stem}-f16.gguf",),
            finetune_share=0.0,
            boost=3,
        ),
    ),
}
"""Big publishers: each one's share of all repos, and its style."""

MRADERMACHER_IMATRIX = Style(
    menu=tuple(
        f"i1-{q}"
        for q in (
            "IQ1_S",
            "IQ1_M",
            "IQ2_XXS",
            "IQ2_XS",
            "IQ2_S",
            "IQ2_M",
            "Q2_K_S",
            "Q2_K",
            "IQ3_XXS",
            "IQ3_XS",
            "Q3_K_S",
            "IQ3_S",
            "IQ3_M",
            "Q3_K_M",
            "Q3_K_L",
            "IQ4_XS",
            "IQ4_NL",
            "Q4_0",
            "Q4_K_S",
            "Q4_K_M",
            "Q4_1",
            "Q5_K_S",
            "Q5_K_M",
            "Q6_K",
        )
    ),
    take=0.85,
    naming="dot",
    split_naming="parts",
    folder="none",
    shard_max=48 * _GB,
    imatrix="imatrix.dat",
    finetune_share=0.75,
    boost=1.5,
    extra_tags=("imatrix",),
)
"""mradermacher's second line of repos (`-i1-GGUF`), quantized with an importance matrix."""

TAIL_STYLES: tuple[tuple[float, str, Style], ...] = (
    (
        0.35,
        "-GGUF",
        Style(
            menu=_K + _I,
            take=0.35,
            naming="dash",
            split_naming="llama",
            folder="none",
            shard_max=48 * _GB,
        ),
    ),
    (
        0.25,
        "-gguf",
        Style(menu=_K, take=0.3, naming="dot", split_naming="split", folder="none", shard_max=45 * _GB),
    ),
    (
        0.25,
        "-{quant}-GGUF",
        Style(
            menu=("Q4_K_M", "Q8_0", "Q5_K_M", "Q6_K", "Q4_0"),
            take=0.0,
            naming="lower-dash",
            split_naming="llama",
            folder="none",
            shard_max=48 * _GB,
            extra_tags=("llama-cpp", "gguf-my-repo"),
        ),
    ),
    (
        0.15,
        "",
        Style(
            menu=("Q4_K_M", "Q5_K_M", "Q8_0", "F16"),
            take=0.5,
            naming="dash",
            split_naming="llama",
            folder="none",
            shard_max=48 * _GB,
        ),
    ),
)
"""The long tail's conventions: each one's share of tail repos, the repo-name suffix, and the style."""

FINETUNERS = (
    "NousResearch",
    "cognitivecomputations",
    "huihui-ai",
    "Sao10K",
    "TheDrummer",
    "allenai",
    "nvidia",
    "arcee-ai",
    "mlabonne",
    "Gryphe",
    "anthracite-org",
    "openchat",
    "abacusai",
)
"""Organisations whose finetunes get quantized."""

FINETUNES = (
    "abliterated",
    "Uncensored",
    "RP",
    "Instruct-v2",
    "DPO",
    "Merged",
    "Hermes",
    "Dolphin",
    "Coder",
    "Reasoning",
    "SFT",
    "Lorablated",
    "Storywriter",
    "Math",
)
"""Suffixes finetunes add to the upstream model's name."""

SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "shi",
    "zen",
    "qua",
    "dro",
    "fel",
    "nyx",
    "ari",
    "bel",
    "cor",
    "dax",
    "eli",
    "fin",
    "gal",
    "hex",
    "ion",
    "jun",
    "kel",
    "lux",
    "mor",
    "nim",
)
"""What the long tail's user names are made of."""
