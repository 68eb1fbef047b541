"""The simulated Hub's contents: seeded synthetic GGUF repos, the ground truth tests compare against.

The same `(repos, seed, now)` always gives the same catalogue. Repos are immutable snapshots; mutations
(`edit`, `add`, `delete`) swap in a new snapshot under a lock, so readers never see a half-applied
change, and old commits stay readable by their sha like on the real Hub.

Hashes: small (non-LFS) files have real content and their real git blob id. LFS files are virtual
(header plus filler up to a multi-gigabyte size), so their `sha256` is a deterministic stand-in derived
from the repo, path and size, not the digest of the served bytes; their git oid is the real blob id of
the LFS pointer file that git would store for that sha256 and size.
"""

from __future__ import annotations

import bisect
import dataclasses
import gc
import hashlib
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from ggufsync_assets.hubsim.families import (
    FAMILIES,
    FAMILIES_BY_BASE_MODEL,
    Family,
    quantization,
)
from ggufsync_assets.hubsim.gguf_files import GGUFSpec

Gated = Literal[False, "auto", "manual"]

WINDOW_START = datetime(2023, 8, 1, tzinfo=UTC)
_THEBLOKE_LAST_UPLOAD = datetime(2024, 1, 31, tzinfo=UTC)
_BARTOWSKI_ORG_PREFIX_SINCE = datetime(2024, 12, 1, tzinfo=UTC)

_GITATTRIBUTES = (
    "\n".join(
        f"{pattern} filter=lfs diff=lfs merge=lfs -text"
        for pattern in (
            "*.7z",
            "*.arrow",
            "*.bin",
            "*.bz2",
            "*.ckpt",
            "*.ftz",
            "*.gz",
            "*.h5",
            "*.joblib",
            "*.lfs.*",
            "*.mlmodel",
            "*.model",
            "*.msgpack",
            "*.npy",
            "*.npz",
            "*.onnx",
            "*.ot",
            "*.parquet",
            "*.pb",
            "*.pickle",
            "*.pkl",
            "*.pt",
            "*.pth",
            "*.rar",
            "*.safetensors",
            "saved_model/**/*",
            "*.tar.*",
            "*.tar",
            "*.tflite",
            "*.tgz",
            "*.wasm",
            "*.xz",
            "*.zip",
            "*.zst",
            "*tfevents*",
            "*.gguf",
            "*.imatrix",
            "imatrix.dat",
        )
    )
    + "\n"
)


def hub_timestamp(moment: datetime) -> str:
    """The Hub's timestamp format: UTC, milliseconds, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def git_blob_oid(data: bytes) -> str:
    """The id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer file git stores in place of an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True, slots=True)
class HubFile:
    """One file of a repo revision.

    Small files carry their real `content`. LFS files carry an `lfs_key` naming the stored object
    and are served as their GGUF header (`gguf`, if any) followed by zero filler up to `size`;
    their hashes are derived on access, which keeps building big catalogues cheap.
    """

    path: str
    size: int
    content: bytes | None = None
    lfs_key: str | None = None
    gguf: GGUFSpec | None = None

    @property
    def is_lfs(self) -> bool:
        return self.lfs_key is not None

    @property
    def lfs_sha256(self) -> str | None:
        """Stand-in sha256 of the LFS object: same key, path and size, same object."""
        if self.lfs_key is None:
            return None
        return hashlib.sha256(f"{self.lfs_key}\0{self.path}\0{self.size}".encode()).hexdigest()

    @property
    def oid(self) -> str:
        """Git blob id: of the content for small files, of the LFS pointer for LFS files."""
        if self.content is not None:
            return git_blob_oid(self.content)
        return git_blob_oid(lfs_pointer(self.lfs_sha256 or "", self.size))

    @property
    def pointer_size(self) -> int:
        """Size of the LFS pointer file git stores for this object."""
        return len(lfs_pointer(self.lfs_sha256 or "", self.size))


def small_file(path: str, content: bytes | str) -> HubFile:
    """A regular git file with real content (README.md, config.json, .gitattributes)."""
    data = content.encode() if isinstance(content, str) else content
    return HubFile(path=path, size=len(data), content=data)


def lfs_file(path: str, size: int, *, key: str, gguf: GGUFSpec | None = None) -> HubFile:
    """A virtual LFS file; `key` identifies the stored object (same key and size, same sha256)."""
    return HubFile(path=path, size=size, lfs_key=key, gguf=gguf)


def gguf_file(
    path: str,
    base_model: str = "Qwen/Qwen2.5-7B-Instruct",
    quant: str = "Q4_K_M",
    *,
    split: tuple[int, int] = (0, 1),
    size: int | None = None,
) -> HubFile:
    """A .gguf file for hand-built repos: a realistic size for `base_model` at `quant` unless given."""
    family = FAMILIES_BY_BASE_MODEL[base_model]
    whole = round(family.parameters * quantization(quant).bits_per_weight / 8) + (32 << 20)
    spec = GGUFSpec(family, quant, family.name.replace("-", " "), "model", split[0], split[1])
    return lfs_file(path, size or whole // split[1], key=f"manual:{base_model}:{quant}", gguf=spec)


@dataclass(frozen=True, slots=True)
class Style:
    """How a publisher names and lays out its GGUF repos."""

    menu: tuple[str, ...]
    take: float
    naming: Literal["dash", "dot", "lower-dot", "lower-dash"]
    split_naming: Literal["llama", "split"]
    folder: Literal["none", "quant", "file"]
    shard_max: int
    imatrix: str | None = None
    mmproj: tuple[str, ...] = ()
    finetune_share: float = 0.4
    boost: float = 1.0
    extra_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recipe:
    """What the generator built a repo from, so that edits can add files in the same style."""

    family: Family
    stem: str
    style: Style
    quantized_by: str


@dataclass(frozen=True, slots=True)
class Repo:
    """A model repo at one commit, with every property the Hub API can return for it."""

    id: str
    object_id: str
    sha: str
    created_at: datetime
    last_modified: datetime
    files: tuple[HubFile, ...]
    tags: tuple[str, ...]
    downloads: int = 0
    downloads_all_time: int = 0
    likes: int = 0
    trending_score: int = 0
    gated: Gated = False
    private: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    card_data: dict[str, Any] | None = None
    gguf: dict[str, Any] | None = None
    recipe: Recipe | None = field(default=None, compare=False, repr=False)

    def __hash__(self) -> int:
        """A commit is identified by repo and sha (card data is a dict, which cannot be hashed)."""
        return hash((self.id, self.sha))

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    def file(self, path: str) -> HubFile | None:
        return next((f for f in self.files if f.path == path), None)


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
_GB = 1_000_000_000

PUBLISHERS: dict[str, tuple[float, Style]] = {
    "mradermacher": (
        0.16,
        Style(
            (
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
            0.8,
            "dot",
            "split",
            "none",
            48 * _GB,
            finetune_share=0.75,
            boost=1.5,
        ),
    ),
    "bartowski": (
        0.12,
        Style(
            (
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
            0.7,
            "dash",
            "llama",
            "file",
            48 * _GB,
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
            _LEGACY,
            0.95,
            "lower-dot",
            "split",
            "none",
            48 * _GB,
            finetune_share=0.4,
            boost=3,
        ),
    ),
    "unsloth": (
        0.05,
        Style(
            (
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
            0.75,
            "dash",
            "llama",
            "quant",
            49 * _GB,
            mmproj=("mmproj-F16.gguf", "mmproj-BF16.gguf", "mmproj-F32.gguf"),
            finetune_share=0.05,
            boost=6,
            extra_tags=("unsloth",),
        ),
    ),
    "QuantFactory": (
        0.05,
        Style(
            _LEGACY,
            0.95,
            "dot",
            "split",
            "none",
            45 * _GB,
            finetune_share=0.5,
        ),
    ),
    "lmstudio-community": (
        0.04,
        Style(
            ("Q3_K_L", "Q4_K_M", "Q6_K", "Q8_0"),
            1.0,
            "dash",
            "llama",
            "none",
            48 * _GB,
            mmproj=("mmproj-model-f16.gguf",),
            finetune_share=0.05,
            boost=6,
        ),
    ),
    "MaziyarPanahi": (
        0.03,
        Style(
            (
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
            0.9,
            "dot",
            "split",
            "none",
            45 * _GB,
            finetune_share=0.3,
            boost=2,
        ),
    ),
    "second-state": (
        0.02,
        Style(
            (
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
            0.95,
            "dash",
            "llama",
            "none",
            45 * _GB,
            finetune_share=0.1,
        ),
    ),
    "ggml-org": (
        0.01,
        Style(
            ("Q4_K_M", "Q8_0", "F16"),
            0.7,
            "lower-dash",
            "llama",
            "none",
            48 * _GB,
            mmproj=("mmproj-{stem}-f16.gguf",),
            finetune_share=0.0,
            boost=3,
        ),
    ),
}
_MRADERMACHER_IMATRIX = Style(
    tuple(
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
    0.85,
    "dot",
    "split",
    "none",
    48 * _GB,
    imatrix="imatrix.dat",
    finetune_share=0.75,
    boost=1.5,
    extra_tags=("imatrix",),
)
_TAIL_STYLES: tuple[tuple[float, str, Style], ...] = (
    (0.35, "-GGUF", Style(_K + _I, 0.35, "dash", "llama", "none", 48 * _GB)),
    (0.25, "-gguf", Style(_K, 0.3, "dot", "split", "none", 45 * _GB)),
    (
        0.25,
        "-{quant}-GGUF",
        Style(
            ("Q4_K_M", "Q8_0", "Q5_K_M", "Q6_K", "Q4_0"),
            0.0,
            "lower-dash",
            "llama",
            "none",
            48 * _GB,
            extra_tags=("llama-cpp", "gguf-my-repo"),
        ),
    ),
    (0.15, "", Style(("Q4_K_M", "Q5_K_M", "Q8_0", "F16"), 0.5, "dash", "llama", "none", 48 * _GB)),
)
_FINETUNERS = (
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
_FINETUNES = (
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
_SYLLABLES = (
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

Case = Literal[
    "gated-auto",
    "gated-manual",
    "no-card",
    "no-summary",
    "no-gguf-files",
    "untagged",
    "base-model-list",
    "license-tag-only",
    "license-card-only",
    "old",
    "split-llama",
    "split-dashes",
    "split-folder",
    "vision",
    "imatrix-repo",
]
Forced = tuple[Case, str | None, str | None]
_FORCED: tuple[Forced, ...] = (
    ("split-llama", "bartowski", "meta-llama/Llama-3.1-70B-Instruct"),
    ("vision", "unsloth", "google/gemma-3-4b-it"),
    ("gated-auto", None, None),
    ("no-card", None, None),
    ("no-summary", None, None),
    ("no-gguf-files", None, None),
    ("untagged", None, None),
    ("split-dashes", "TheBloke", "meta-llama/Llama-2-70b-chat-hf"),
    ("split-folder", "unsloth", "deepseek-ai/DeepSeek-R1"),
    ("imatrix-repo", "mradermacher", None),
    ("gated-manual", None, None),
    ("base-model-list", None, None),
    ("license-tag-only", None, None),
    ("license-card-only", None, None),
    ("old", None, "meta-llama/Llama-2-7b-chat-hf"),
)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _front_matter(card: dict[str, Any]) -> str:
    """YAML metadata block of a model card (JSON scalars are valid YAML)."""
    lines = ["---"]
    for key, value in card.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"- {json.dumps(item)}" for item in value)
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join([*lines, "---", ""])


def _readme(
    repo_id: str, card: dict[str, Any] | None, upstream: str, files: Iterable[HubFile], note: str = ""
) -> HubFile:
    rows = "\n".join(f"| {f.path} | {f.size / 1e9:.2f} GB |" for f in files if f.gguf)
    body = (
        f"# {repo_id.split('/', 1)[1]}\n\nGGUF quantizations of {upstream}, made with llama.cpp.\n\n"
        f"| File | Size |\n| ---- | ---- |\n{rows}\n{note}"
    )
    return small_file("README.md", (_front_matter(card) if card else "") + body)


class _Generator:
    """Draws repos; each repo's randomness comes from its own seeded stream, so repos are independent."""

    def __init__(self, seed: int, now: datetime, expected: int) -> None:
        self.seed = seed
        self.now = now
        self.families = [f for f in FAMILIES if _midnight(f.released) < now] or list(FAMILIES)
        self.tail_size = max(40, expected // 3)
        weights = [1 / (rank + 1) ** 1.07 for rank in range(self.tail_size)]
        self.tail_cumulative = list(itertools.accumulate(weights))
        self.taken: set[str] = set()

    def _tail_author(self, rank: int) -> str:
        rng = random.Random(f"{self.seed}:author:{rank}")  # noqa: S311 - reproducible
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.4:
            name = name.capitalize()
        if rng.random() < 0.35:
            name += str(rng.randint(1, 999))
        return f"{name}-{rank}" if rng.random() < 0.1 else name

    def _author(self, rng: random.Random) -> tuple[str, Style, str]:
        """Author, their style, and the repo-name suffix (big publishers first, then a Zipf tail)."""
        draw = rng.random()
        for name, (share, style) in PUBLISHERS.items():
            if draw < share:
                if name == "mradermacher" and rng.random() < 0.45:
                    return name, _MRADERMACHER_IMATRIX, "-i1-GGUF"
                return name, style, "-GGUF"
            draw -= share
        rank = bisect.bisect_left(self.tail_cumulative, rng.random() * self.tail_cumulative[-1])
        share_draw = rng.random()
        for share, suffix, style in _TAIL_STYLES:
            if share_draw < share:
                return self._tail_author(rank), style, suffix
            share_draw -= share
        return self._tail_author(rank), _TAIL_STYLES[0][2], _TAIL_STYLES[0][1]

    def _family(self, rng: random.Random, author: str, wanted: str | None) -> Family:
        family = FAMILIES_BY_BASE_MODEL.get(wanted or "")
        if family is not None and _midnight(family.released) < self.now:
            return family
        pool = self.families
        if author == "TheBloke":
            pool = [f for f in pool if _midnight(f.released) < _THEBLOKE_LAST_UPLOAD] or pool
        return rng.choices(pool, weights=[f.popularity for f in pool])[0]

    def _dates(self, rng: random.Random, family: Family, author: str, old: bool) -> tuple[datetime, datetime]:
        released = _midnight(family.released)
        upper = min(self.now, _THEBLOKE_LAST_UPLOAD) if author == "TheBloke" else self.now
        lower = max(released, WINDOW_START)
        if old or (released < WINDOW_START and rng.random() < 0.3):
            lower, upper = released, min(WINDOW_START - timedelta(hours=1), self.now)
        if upper <= lower:
            lower = upper - timedelta(days=2)
        created = lower + (upper - lower) * (rng.random() ** 0.45)
        if rng.random() < 0.55:
            modified = min(created + timedelta(hours=rng.uniform(0, 48)), self.now)
        else:
            modified = created + (self.now - created) * (rng.random() ** 1.5)
        return _millis(created), _millis(max(modified, created))

    def repo(self, index: int, forced: Forced | None = None, at: datetime | None = None) -> Repo:
        """Repo number `index`; `forced` pins an edge case (and maybe its author and base model)."""
        rng = random.Random(f"{self.seed}:repo:{index}")  # noqa: S311 - reproducible, not secret
        case, author_wanted, family_wanted = forced or (None, None, None)
        draft = self._draft(rng, case, author_wanted, family_wanted)
        if at is not None:
            draft.created = draft.modified = _millis(at)
        files = self._files(rng, draft, case)
        card, tags, summary = self._metadata(rng, draft, case, any(f.gguf for f in files))
        if card is not None or rng.random() < 0.5:
            files.append(_readme(draft.repo_id, card, draft.upstream, files))
        files.append(small_file(".gitattributes", _GITATTRIBUTES))
        if rng.random() < 0.04:
            config = {
                "architectures": [f"{draft.family.architecture.capitalize()}ForCausalLM"],
                "model_type": draft.family.architecture,
            }
            files.append(small_file("config.json", json.dumps(config, indent=2)))
        return Repo(
            id=draft.repo_id,
            object_id=f"{int(draft.created.timestamp()):08x}{rng.getrandbits(64):016x}",
            sha=f"{rng.getrandbits(160):040x}",
            created_at=draft.created,
            last_modified=draft.modified,
            files=tuple(sorted(files, key=lambda f: f.path)),
            tags=tuple(tags),
            gated=_gated(rng, draft.family, case),
            pipeline_tag=draft.family.pipeline_tag,
            library_name="gguf" if "gguf" in tags else None,
            card_data=card,
            gguf=summary,
            recipe=Recipe(draft.family, draft.stem, draft.style, draft.author),
            **self._popularity(rng, draft),
        )

    def _draft(
        self, rng: random.Random, case: Case | None, author_wanted: str | None, family_wanted: str | None
    ) -> _Draft:
        """Who publishes what: author, base model, dates, names and the quantizations carried."""
        author, style, suffix = self._author(rng)
        if author_wanted is not None:
            author = author_wanted
            imatrix_repo = case == "imatrix-repo"
            style = _MRADERMACHER_IMATRIX if imatrix_repo else PUBLISHERS[author][1]
            suffix = "-i1-GGUF" if imatrix_repo else "-GGUF"
        family = self._family(rng, author, family_wanted)
        created, modified = self._dates(rng, family, author, case == "old")
        name, upstream = family.name.removesuffix("-hf"), family.base_model
        if family_wanted is None and rng.random() < style.finetune_share:
            name = f"{name}-{rng.choice(_FINETUNES)}"
            upstream = f"{rng.choice(_FINETUNERS)}/{name}"
        stem = name
        if author == "bartowski" and created >= _BARTOWSKI_ORG_PREFIX_SINCE:
            stem = f"{upstream.split('/', 1)[0]}_{name}"
        quants = [q for q in style.menu if rng.random() < style.take] or [rng.choice(style.menu)]
        required = {"split-llama": "Q8_0", "split-dashes": "Q8_0", "split-folder": "UD-Q4_K_XL"}
        if case in required:
            quants = sorted({*quants, required[case]}, key=style.menu.index)
        suffix = suffix.replace("{quant}", quants[0])
        if case == "untagged" and "GGUF" not in suffix.upper():
            suffix = "-GGUF"
        repo_id = f"{author}/{stem}{suffix}"
        for attempt in itertools.count(2):
            if repo_id.lower() not in self.taken:  # the Hub keeps repo ids unique regardless of case
                break
            repo_id = f"{author}/{stem}-v{attempt}{suffix}"
        self.taken.add(repo_id.lower())
        return _Draft(repo_id, author, style, family, upstream, stem, quants, created, modified)

    def _files(self, rng: random.Random, draft: _Draft, case: Case | None) -> list[HubFile]:
        """The LFS files: quantizations (split when too big), projectors, imatrix."""
        recipe = Recipe(draft.family, draft.stem, draft.style, draft.author)
        key = f"{self.seed}:{draft.repo_id}"
        files: list[HubFile] = []
        if case != "no-gguf-files" and not (case is None and rng.random() < 0.015):
            for quant in draft.quants:
                files.extend(_quant_files(recipe, quant, key))
            if (
                draft.family.vision_parameters
                and draft.style.mmproj
                and (rng.random() < 0.8 or case == "vision")
            ):
                files.extend(_projector_files(recipe, key))
        if draft.style.imatrix:
            family = draft.family
            size = family.block_count * (6 * family.embedding_length + family.feed_forward_length) * 4
            files.append(lfs_file(draft.style.imatrix.format(stem=draft.stem), size + 4096, key=key))
        return files

    def _metadata(
        self, rng: random.Random, draft: _Draft, case: Case | None, has_gguf: bool
    ) -> tuple[dict[str, Any] | None, list[str], dict[str, Any] | None]:
        """Model card metadata, tags (mostly derived from the card, like the Hub does) and the
        Hub's `gguf` summary."""
        family, upstream = draft.family, draft.upstream
        card_mode = case if case in ("no-card", "license-tag-only", "license-card-only") else None
        if case is None:
            draw = rng.random()
            card_mode = (
                "no-card"
                if draw < 0.05
                else "license-card-only"
                if draw < 0.12
                else "license-tag-only"
                if draw < 0.18
                else None
            )
        base_model: str | list[str] = upstream
        if case == "base-model-list" or (case is None and rng.random() < 0.15):
            base_model = [upstream]
        card: dict[str, Any] | None = None
        if card_mode != "no-card":
            card = {"base_model": base_model, "language": ["en"]}
            if card_mode != "license-tag-only":
                card["license"] = family.license
            card.update(
                pipeline_tag=family.pipeline_tag,
                tags=[family.architecture, "llama-cpp", *draft.style.extra_tags],
                quantized_by=draft.author,
            )
        untagged = case == "untagged" or (case is None and rng.random() < 0.015)
        tags = ([] if untagged else ["gguf"]) + [family.pipeline_tag, "en"]
        if card is not None:
            tags += [f"base_model:{upstream}", f"base_model:quantized:{upstream}"]
        if (card is not None and card_mode != "license-card-only") or card_mode == "license-tag-only":
            tags.append(f"license:{family.license}")
        tags += [t for t in draft.style.extra_tags if t not in tags]
        chat_template = family.tokenizer.chat_template
        if chat_template is not None:
            tags.append("conversational")
        tags += ["endpoints_compatible", "region:us"]
        summary: dict[str, Any] | None = None
        if has_gguf and not untagged and case != "no-summary" and not (case is None and rng.random() < 0.04):
            summary = {
                "total": family.parameters,
                "architecture": family.architecture,
                "context_length": family.context_length,
            }
            if chat_template is not None:
                summary["chat_template"] = chat_template
            summary.update(bos_token=family.tokenizer.bos, eos_token=family.tokenizer.eos)
        return card, tags, summary

    def _popularity(self, rng: random.Random, draft: _Draft) -> dict[str, int]:
        """Heavy-tailed downloads and likes; recent activity drives the trending score."""
        age = max((self.now - draft.created).days, 0)
        quiet = max((self.now - draft.modified).days, 0)
        boost = draft.style.boost
        downloads = int(rng.lognormvariate(3.0, 2.3) * boost * math.exp(-age / 400))
        all_time = downloads + int(rng.lognormvariate(3.0, 2.3) * boost * (1 + age / 30))
        likes = int(all_time**0.5 * rng.random() * 0.3)
        return {
            "downloads": downloads,
            "downloads_all_time": all_time,
            "likes": likes,
            "trending_score": int(likes * 0.5 ** (quiet / 7)),
        }

    def forced_cases(self, count: int) -> dict[int, Forced]:
        """Spread one of each edge case over the catalogue so even small catalogues exercise them."""
        order = list(range(count))
        random.Random(f"{self.seed}:forced").shuffle(order)  # noqa: S311 - reproducible
        return dict(zip(order, _FORCED, strict=False))


@dataclass(slots=True)
class _Draft:
    repo_id: str
    author: str
    style: Style
    family: Family
    upstream: str
    stem: str
    quants: list[str]
    created: datetime
    modified: datetime


def _gated(rng: random.Random, family: Family, case: Case | None) -> Gated:
    if case == "gated-auto":
        return "auto"
    if case == "gated-manual":
        return "manual"
    if case is None and rng.random() < (0.12 if family.gated_upstream else 0.01):
        return "auto" if rng.random() < 0.7 else "manual"
    return False


def _gguf_name(style: Style, stem: str, quant: str) -> str:
    if style.naming == "dash":
        return f"{stem}-{quant}.gguf"
    if style.naming == "dot":
        return f"{stem}.{quant}.gguf"
    if style.naming == "lower-dot":
        return f"{stem.lower()}.{quant}.gguf"
    return f"{stem.lower()}-{quant.lower()}.gguf"


def _quant_files(recipe: Recipe, quant: str, key: str) -> list[HubFile]:
    """The file, or the split shards, holding one quantization of the model."""
    family, style = recipe.family, recipe.style
    total = round(family.parameters * quantization(quant).bits_per_weight / 8) + (24 << 20)
    name = _gguf_name(style, recipe.stem, quant)
    model_name = recipe.stem.replace("-", " ").replace("_", " ")
    shards = math.ceil(total / style.shard_max)
    if shards == 1:
        spec = GGUFSpec(family, quant, model_name, quantized_by=recipe.quantized_by)
        return [lfs_file(name, total, key=key, gguf=spec)]
    base = name.removesuffix(".gguf")
    folder = {"none": "", "quant": f"{quant}/", "file": f"{base}/"}[style.folder]
    infix = "-split" if style.split_naming == "split" else ""
    files = []
    for shard in range(shards):
        size = total // shards + (total % shards if shard == shards - 1 else 0)
        path = f"{folder}{base}{infix}-{shard + 1:05d}-of-{shards:05d}.gguf"
        spec = GGUFSpec(family, quant, model_name, "model", shard, shards, recipe.quantized_by)
        files.append(lfs_file(path, size, key=key, gguf=spec))
    return files


def _projector_files(recipe: Recipe, key: str) -> list[HubFile]:
    files = []
    for pattern in recipe.style.mmproj:
        path = pattern.format(stem=recipe.stem)
        quant = path.removesuffix(".gguf").rsplit("-", 1)[1].upper()
        size = round(recipe.family.vision_parameters * quantization(quant).bits_per_weight / 8)
        spec = GGUFSpec(recipe.family, quant, f"{recipe.stem} mmproj", "mmproj")
        files.append(lfs_file(path, size + (4 << 20), key=key, gguf=spec))
    return files


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building creates ~10 objects per file and nothing cyclic; pausing the cyclic collector
    meanwhile makes large catalogues about a third faster."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class CatalogueView:
    """An immutable snapshot of all current repos, with lazily built sort orders for listings."""

    def __init__(self, repos: Iterable[Repo]) -> None:
        self.repos: tuple[Repo, ...] = tuple(repos)
        self.by_id: dict[str, Repo] = {repo.id: repo for repo in self.repos}
        self.orders: dict[str, Any] = {}


class Catalogue:
    """Ground truth of the simulated Hub, and the mutations tests apply between syncs.

    `now` anchors the simulated clock: generated dates lie before it, and mutations are stamped with
    `now` plus the real time elapsed since the catalogue was built (`clock()`), unless given `at`.
    """

    def __init__(self, repos: int = 200, seed: int = 0, now: datetime | None = None) -> None:
        self.seed = seed
        self.epoch = _millis(_as_utc(now) if now else datetime.now(UTC).replace(microsecond=0))
        self._started = time.monotonic()
        self._lock = threading.RLock()
        self._generator = _Generator(seed, self.epoch, repos)
        forced = self._generator.forced_cases(repos)
        built = []
        with _collector_paused():
            for index in range(repos):
                built.append(self._generator.repo(index, forced.get(index)))
        self._next_index = repos
        self._view = CatalogueView(built)
        self._history: dict[str, dict[str, Repo]] = {}
        self._edits: dict[str, int] = {}
        self._blobs: dict[str, HubFile] | None = None

    def clock(self) -> datetime:
        """The simulated current time."""
        return _millis(self.epoch + timedelta(seconds=time.monotonic() - self._started))

    def view(self) -> CatalogueView:
        return self._view

    def repos(self) -> list[Repo]:
        """Every current repo, in creation order."""
        return list(self._view.repos)

    def get(self, repo_id: str) -> Repo | None:
        return self._view.by_id.get(repo_id)

    def __len__(self) -> int:
        return len(self._view.repos)

    def __iter__(self) -> Iterator[Repo]:
        return iter(self._view.repos)

    def __contains__(self, repo_id: object) -> bool:
        return repo_id in self._view.by_id

    def at_revision(self, repo_id: str, revision: str) -> Repo | None:
        """The repo as of `revision` (`main`, its current sha, or an older sha), if that exists."""
        repo = self._view.by_id.get(repo_id)
        if repo is None:
            return None
        if revision in ("main", "refs/heads/main", repo.sha):
            return repo
        return self._history.get(repo_id, {}).get(revision)

    def blob(self, sha256: str) -> HubFile | None:
        """An LFS object by its sha256, from any repo or commit (the CDN never forgets a blob)."""
        with self._lock:
            if self._blobs is None:
                self._blobs = {}
                snapshots = itertools.chain(self._view.repos, *(h.values() for h in self._history.values()))
                for repo in snapshots:
                    self._index_blobs(repo)
            return self._blobs.get(sha256)

    def _index_blobs(self, repo: Repo) -> None:
        if self._blobs is not None:
            self._blobs.update((f.lfs_sha256, f) for f in repo.files if f.lfs_sha256)

    def _publish(self, repos: Iterable[Repo]) -> None:
        self._view = CatalogueView(repos)

    def edit(self, repo_id: str, *, at: datetime | None = None, **changes: Any) -> Repo:
        """Commit to a repo: new sha and lastModified; by default adds or removes a quant and
        rewrites the README, or applies `changes` (any `Repo` field, e.g. `files=` or `gated=`)."""
        with self._lock:
            old = self._view.by_id.get(repo_id)
            if old is None:
                raise KeyError(repo_id)
            count = self._edits[repo_id] = self._edits.get(repo_id, 0) + 1
            rng = random.Random(f"{self.seed}:edit:{repo_id}:{count}")  # noqa: S311 - reproducible
            moment = _millis(_as_utc(at)) if at else self.clock()
            files = changes.pop("files", None)
            if files is None:
                files = _edited_files(old, rng, f"{self.seed}:{repo_id}:edit{count}")
            fields = {"sha": f"{rng.getrandbits(160):040x}", "last_modified": moment, **changes}
            fields["files"] = tuple(sorted(files, key=lambda f: f.path))
            new = dataclasses.replace(old, **fields)
            self._history.setdefault(repo_id, {})[old.sha] = old
            self._index_blobs(new)
            self._publish(new if repo.id == repo_id else repo for repo in self._view.repos)
            return new

    def add(self, repo_id: str | None = None, *, at: datetime | None = None, **fields: Any) -> Repo:
        """Create a repo (generated like the others, created now), optionally overriding any field."""
        with self._lock:
            if repo_id is not None and repo_id in self._view.by_id:
                raise ValueError(f"repo {repo_id} already exists")
            moment = _millis(_as_utc(at)) if at else self.clock()
            repo = self._generator.repo(self._next_index, at=moment)
            self._next_index += 1
            if repo_id is not None:
                fields["id"] = repo_id
                self._generator.taken.add(repo_id.lower())
            if "files" in fields:
                fields["files"] = tuple(sorted(fields["files"], key=lambda f: f.path))
            repo = dataclasses.replace(repo, **fields)
            self._index_blobs(repo)
            self._publish([*self._view.repos, repo])
            return repo

    def delete(self, repo_id: str) -> Repo:
        """Remove a repo; afterwards every route answers RepoNotFound for it."""
        with self._lock:
            repo = self._view.by_id.get(repo_id)
            if repo is None:
                raise KeyError(repo_id)
            self._history.pop(repo_id, None)
            self._publish(r for r in self._view.repos if r.id != repo_id)
            return repo


def _edited_files(repo: Repo, rng: random.Random, key: str) -> list[HubFile]:
    """A plausible commit: one quantization added (or, if the menu is exhausted, one removed) and the
    README rewritten to match."""
    files = [f for f in repo.files if f.path != "README.md"]
    recipe = repo.recipe
    if recipe is not None:
        present = {f.gguf.quant for f in files if f.gguf and f.gguf.kind == "model"}
        missing = [q for q in recipe.style.menu if q not in present]
        if missing:
            files.extend(_quant_files(recipe, rng.choice(missing), key))
        elif len(present) > 1:
            dropped = rng.choice(sorted(present))
            files = [f for f in files if not (f.gguf and f.gguf.kind == "model" and f.gguf.quant == dropped)]
    upstream = recipe.family.base_model if recipe else repo.id
    note = f"\nUpdated {hub_timestamp(repo.last_modified)} -> revision {rng.getrandbits(32):08x}.\n"
    files.append(_readme(repo.id, repo.card_data, upstream, files, note))
    return files
