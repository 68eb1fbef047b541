"""Seeded synthetic GGUF repos: who publishes what, when, in which files, with which metadata.

The same `(seed, now)` always gives the same repos: each repo draws from its own stream, seeded by the
generator seed and the repo's index, so repos are independent of one another and of how many are built.
How many repos lack a license, a card, readable file names, ... is set by `Realism`, drawn from a
stream of their own, so changing those shares leaves authors, models and dates as they were. A few
repos are pinned to edge cases (gated, split, untagged, no card, ...) so that even a small hub exercises
every path of a sync.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypedDict

from ggufsync_assets.hubsim.families import FAMILIES, FAMILIES_BY_BASE_MODEL, Family, quantization
from ggufsync_assets.hubsim.files import HubFile, lfs_file, small_file
from ggufsync_assets.hubsim.gguf_files import GGUFSpec
from ggufsync_assets.hubsim.publishers import (
    BARTOWSKI_ORG_PREFIX_SINCE,
    FINETUNERS,
    FINETUNES,
    MRADERMACHER_IMATRIX,
    PUBLISHERS,
    SYLLABLES,
    TAIL_STYLES,
    THEBLOKE_LAST_UPLOAD,
    OddNaming,
    Recipe,
    Style,
)
from ggufsync_assets.hubsim.realism import Realism
from ggufsync_assets.hubsim.repos import Gated, Repo, hub_timestamp, to_millis

WINDOW_START = datetime(2023, 8, 1, tzinfo=UTC)
FILE_TYPE_LAST_SINCE = datetime(2025, 1, 1, tzinfo=UTC)
"""From here on llama-quantize writes general.file_type after the tokenizer (GGUFSpec.file_type_last)."""
IMATRIX_GGUF_SINCE = datetime(2025, 7, 1, tzinfo=UTC)
"""From here on llama-imatrix writes its importance matrix as GGUF: `<stem>.imatrix.gguf`, `imatrix.gguf`."""
"""llama.cpp moved to GGUF in August 2023: most repos are created after this, a few before."""

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
"""The `.gitattributes` the Hub commits to every new model repo."""

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
    "split-bytes",
    "split-parts",
    "vision",
    "imatrix-repo",
    "no-license",
    "no-base-model",
    "no-pipeline-tag",
    "odd-names",
]
"""Edge cases a sync must cope with; `RepoGenerator.forced_cases` plants one of each."""
Forced = tuple[Case, str | None, str | None]
"""An edge case, and the author and base model it needs, if any."""
_FORCED: tuple[Forced, ...] = (
    ("split-llama", "bartowski", "meta-llama/Llama-3.1-70B-Instruct"),
    ("vision", "unsloth", "google/gemma-3-4b-it"),
    ("gated-auto", None, None),
    ("no-card", None, None),
    ("no-summary", None, None),
    ("no-gguf-files", None, None),
    ("untagged", None, None),
    ("split-dashes", "MaziyarPanahi", "meta-llama/Llama-3.1-70B-Instruct"),
    ("split-bytes", "TheBloke", "meta-llama/Llama-2-70b-chat-hf"),
    ("split-parts", "mradermacher", "meta-llama/Llama-3.1-70B-Instruct"),
    ("split-folder", "unsloth", "deepseek-ai/DeepSeek-R1"),
    ("imatrix-repo", "mradermacher", None),
    ("gated-manual", None, None),
    ("base-model-list", None, None),
    ("license-tag-only", None, None),
    ("license-card-only", None, None),
    ("old", None, "meta-llama/Llama-2-7b-chat-hf"),
    ("no-license", None, None),
    ("no-base-model", None, None),
    ("no-pipeline-tag", None, None),
    ("odd-names", None, None),
)

_License = Literal["card-and-tag", "none", "card-only", "tag-only"]
"""Where a repo states its license: the card, its `license:` tag, both or neither."""


@dataclass(frozen=True, slots=True)
class _Quirks:
    """What a repo lacks or gets oddly (`no_summary` only tells on a tagged repo with GGUF files)."""

    no_card: bool = False
    license: _License = "card-and-tag"
    no_base_model: bool = False
    base_model_list: bool = False
    no_pipeline_tag: bool = False
    untagged: bool = False
    no_gguf_files: bool = False
    no_summary: bool = False
    odd_naming: OddNaming | None = None


_FORCED_QUIRKS: dict[Case, _Quirks] = {
    "no-card": _Quirks(no_card=True, license="none", no_base_model=True),
    "no-summary": _Quirks(no_summary=True),
    "no-gguf-files": _Quirks(no_gguf_files=True),
    "untagged": _Quirks(untagged=True),
    "base-model-list": _Quirks(base_model_list=True),
    "license-tag-only": _Quirks(license="tag-only"),
    "license-card-only": _Quirks(license="card-only"),
    "no-license": _Quirks(license="none"),
    "no-base-model": _Quirks(no_base_model=True),
    "no-pipeline-tag": _Quirks(no_pipeline_tag=True),
    "odd-names": _Quirks(odd_naming="model"),
}
_ODD_NAMINGS: tuple[OddNaming, ...] = ("model", "bare", "squashed")


def _beyond(share: float, implied: float) -> float:
    """The chance to draw among repos not already counted in `implied`, so that `share` of all
    repos end up with the quirk."""
    return 0.0 if implied >= 1.0 else (share - implied) / (1.0 - implied)


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


class Popularity(TypedDict):
    downloads: int
    downloads_all_time: int
    likes: int
    trending_score: int


class RepoGenerator:
    """Draws repos; each repo's randomness comes from its own seeded stream, so repos are independent."""

    def __init__(self, seed: int, now: datetime, expected: int, realism: Realism | None = None) -> None:
        self.seed = seed
        self.now = now
        self.realism = realism or Realism()
        self.families = [f for f in FAMILIES if _midnight(f.released) < now] or list(FAMILIES)
        self.tail_size = max(40, expected // 3)
        weights = [1 / (rank + 1) ** 1.07 for rank in range(self.tail_size)]
        self.tail_cumulative = list(itertools.accumulate(weights))
        self.taken: set[str] = set()

    def _tail_author(self, rank: int) -> str:
        rng = random.Random(f"{self.seed}:author:{rank}")  # noqa: S311 - reproducible
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
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
                    return name, MRADERMACHER_IMATRIX, "-i1-GGUF"
                return name, style, "-GGUF"
            draw -= share
        rank = bisect.bisect_left(self.tail_cumulative, rng.random() * self.tail_cumulative[-1])
        share_draw = rng.random()
        for share, suffix, style in TAIL_STYLES:
            if share_draw < share:
                return self._tail_author(rank), style, suffix
            share_draw -= share
        return self._tail_author(rank), TAIL_STYLES[0][2], TAIL_STYLES[0][1]

    def _family(self, rng: random.Random, author: str, wanted: str | None) -> Family:
        family = FAMILIES_BY_BASE_MODEL.get(wanted or "")
        if family is not None and _midnight(family.released) < self.now:
            return family
        pool = self.families
        if author == "TheBloke":
            pool = [f for f in pool if _midnight(f.released) < THEBLOKE_LAST_UPLOAD] or pool
        return rng.choices(pool, weights=[f.popularity for f in pool])[0]

    def _dates(self, rng: random.Random, family: Family, author: str, old: bool) -> tuple[datetime, datetime]:
        released = _midnight(family.released)
        upper = min(self.now, THEBLOKE_LAST_UPLOAD) if author == "TheBloke" else self.now
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
        return to_millis(created), to_millis(max(modified, created))

    def repo(self, index: int, forced: Forced | None = None, at: datetime | None = None) -> Repo:
        """Repo number `index`; `forced` pins an edge case (and maybe its author and base model)."""
        rng = random.Random(f"{self.seed}:repo:{index}")  # noqa: S311 - reproducible, not secret
        case, author_wanted, family_wanted = forced or (None, None, None)
        quirks = self._quirks(index, case)
        draft = self._draft(rng, case, author_wanted, family_wanted, quirks.odd_naming)
        if at is not None:
            draft.created = draft.modified = to_millis(at)
        files = self._files(rng, draft, case, quirks)
        card, tags, summary = self._metadata(draft, quirks, any(f.gguf for f in files))
        if card is not None:
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
            pipeline_tag=None if quirks.no_pipeline_tag else draft.family.pipeline_tag,
            library_name="gguf" if "gguf" in tags else None,
            card_data=card,
            gguf=summary,
            recipe=_recipe(draft),
            **self._popularity(rng, draft),
        )

    def _quirks(self, index: int, case: Case | None) -> _Quirks:
        """What repo number `index` lacks: pinned by its edge case, else drawn at the `Realism` shares
        from a stream of its own. Every draw is made whatever its outcome, so changing one share
        changes no other quirk."""
        if case is not None:
            return _FORCED_QUIRKS.get(case, _Quirks())
        shares = self.realism
        rng = random.Random(f"{self.seed}:quirks:{index}")  # noqa: S311 - reproducible
        card_draw, license_draw, place_draw, base_draw, list_draw, pipeline_draw = (
            rng.random() for _ in range(6)
        )
        untagged_draw, files_draw, summary_draw, odd_draw, naming_draw = (rng.random() for _ in range(5))
        no_card = card_draw < shares.no_card
        license: _License = (
            "none"
            if no_card or license_draw < _beyond(shares.no_license, shares.no_card)
            else "card-only"
            if place_draw < shares.license_card_only
            else "tag-only"
            if place_draw < shares.license_card_only + shares.license_tag_only
            else "card-and-tag"
        )
        no_base_model = no_card or base_draw < _beyond(shares.no_base_model, shares.no_card)
        no_gguf_files = files_draw < shares.no_gguf_files
        return _Quirks(
            no_card=no_card,
            license=license,
            no_base_model=no_base_model,
            base_model_list=not no_base_model and list_draw < shares.base_model_list,
            no_pipeline_tag=pipeline_draw < shares.no_pipeline_tag,
            untagged=untagged_draw < shares.untagged,
            no_gguf_files=no_gguf_files,
            no_summary=summary_draw < shares.no_gguf_summary,
            odd_naming=_ODD_NAMINGS[int(naming_draw * len(_ODD_NAMINGS))]
            if not no_gguf_files and odd_draw < shares.odd_file_names
            else None,
        )

    def _draft(
        self,
        rng: random.Random,
        case: Case | None,
        author_wanted: str | None,
        family_wanted: str | None,
        odd_naming: OddNaming | None,
    ) -> _Draft:
        """Who publishes what: author, base model, dates, names and the quantizations carried."""
        author, style, suffix = self._author(rng)
        if author_wanted is not None:
            author = author_wanted
            imatrix_repo = case == "imatrix-repo"
            style = MRADERMACHER_IMATRIX if imatrix_repo else PUBLISHERS[author][1]
            suffix = "-i1-GGUF" if imatrix_repo else "-GGUF"
        family = self._family(rng, author, family_wanted)
        created, modified = self._dates(rng, family, author, case == "old")
        name, upstream = family.name.removesuffix("-hf"), family.base_model
        if family_wanted is None and rng.random() < style.finetune_share:
            name = f"{name}-{rng.choice(FINETUNES)}"
            upstream = f"{rng.choice(FINETUNERS)}/{name}"
        stem = name
        if author == "bartowski" and created >= BARTOWSKI_ORG_PREFIX_SINCE:
            stem = f"{upstream.split('/', 1)[0]}_{name}"
        quants = [q for q in style.menu if rng.random() < style.take] or [rng.choice(style.menu)]
        required = {"split-llama": "Q8_0", "split-dashes": "Q8_0", "split-folder": "UD-Q4_K_XL"}
        if case in required:
            quants = sorted({*quants, required[case]}, key=style.menu.index)
        if odd_naming is not None:
            style, quants = _renamed(style, quants, odd_naming)
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

    def _files(self, rng: random.Random, draft: _Draft, case: Case | None, quirks: _Quirks) -> list[HubFile]:
        """The LFS files: quantizations (split when too big), projectors, imatrix. Draws from `rng`
        whatever the quirks, so that they change nothing else about the repo."""
        recipe = _recipe(draft)
        key = f"{self.seed}:{draft.repo_id}"
        files: list[HubFile] = []
        projector = (
            draft.family.vision_parameters and draft.style.mmproj and (rng.random() < 0.8 or case == "vision")
        )
        if not quirks.no_gguf_files:
            for quant in draft.quants:
                files.extend(_quant_files(recipe, quant, key))
            if projector:
                files.extend(_projector_files(recipe, key))
        if draft.style.imatrix:
            family = draft.family
            size = family.block_count * (6 * family.embedding_length + family.feed_forward_length) * 4
            name = draft.style.imatrix.format(stem=draft.stem)
            if draft.created >= IMATRIX_GGUF_SINCE:
                name = name.removesuffix(".dat") + ".gguf"
            files.append(lfs_file(name, size + 4096, key=key))
        return files

    def _metadata(
        self, draft: _Draft, quirks: _Quirks, has_gguf: bool
    ) -> tuple[dict[str, Any] | None, list[str], dict[str, Any] | None]:
        """Model card metadata, tags (mostly derived from the card, like the Hub does) and the
        Hub's `gguf` summary."""
        family, upstream = draft.family, draft.upstream
        card: dict[str, Any] | None = None
        if not quirks.no_card:
            card = {}
            if not quirks.no_base_model:
                card["base_model"] = [upstream] if quirks.base_model_list else upstream
            card["language"] = ["en"]
            if quirks.license in ("card-and-tag", "card-only"):
                card["license"] = family.license
            if not quirks.no_pipeline_tag:
                card["pipeline_tag"] = family.pipeline_tag
            card.update(
                tags=[family.architecture, "llama-cpp", *draft.style.extra_tags],
                quantized_by=draft.author,
            )
        tags = [] if quirks.untagged else ["gguf"]
        if not quirks.no_pipeline_tag:
            tags.append(family.pipeline_tag)
        tags.append("en")
        if not quirks.no_base_model:
            tags += [f"base_model:{upstream}", f"base_model:quantized:{upstream}"]
        if quirks.license in ("card-and-tag", "tag-only"):
            tags.append(f"license:{family.license}")
        tags += [t for t in draft.style.extra_tags if t not in tags]
        chat_template = family.tokenizer.chat_template
        if chat_template is not None:
            tags.append("conversational")
        tags += ["endpoints_compatible", "region:us"]
        summary: dict[str, Any] | None = None
        if has_gguf and not quirks.untagged and not quirks.no_summary:
            summary = {
                "total": family.parameters,
                "architecture": family.architecture,
                "context_length": family.context_length,
            }
            if chat_template is not None:
                summary["chat_template"] = chat_template
            summary.update(bos_token=family.tokenizer.bos, eos_token=family.tokenizer.eos)
        return card, tags, summary

    def _popularity(self, rng: random.Random, draft: _Draft) -> Popularity:
        """Heavy-tailed downloads and likes; recent activity drives the trending score."""
        age = max((self.now - draft.created).days, 0)
        quiet = max((self.now - draft.modified).days, 0)
        boost = draft.style.boost
        downloads = int(rng.lognormvariate(3.0, 2.3) * boost * math.exp(-age / 400))
        all_time = downloads + int(rng.lognormvariate(3.0, 2.3) * boost * (1 + age / 30))
        likes = int(all_time**0.5 * rng.random() * 0.3)
        return Popularity(
            downloads=downloads,
            downloads_all_time=all_time,
            likes=likes,
            trending_score=int(likes * 0.5 ** (quiet / 7)),
        )

    def forced_cases(self, count: int) -> dict[int, Forced]:
        """Spread one of each edge case over the repos, so that even a small hub exercises them."""
        order = list(range(count))
        random.Random(f"{self.seed}:forced").shuffle(order)  # noqa: S311 - reproducible
        return dict(zip(order, _FORCED, strict=False))


def _recipe(draft: _Draft) -> Recipe:
    since_2025 = draft.created >= FILE_TYPE_LAST_SINCE
    return Recipe(draft.family, draft.stem, draft.style, draft.author, quantized_since_2025=since_2025)


@dataclass(slots=True)
class _Draft:
    """A repo half-built: the choices its files and metadata are then drawn from."""

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


def _renamed(style: Style, quants: list[str], naming: OddNaming) -> tuple[Style, list[str]]:
    """The style and quantizations of a repo whose file names hide the quantization.

    `model` and `bare` name one file only, so the repo carries one quantization (and edits keep it
    so); `squashed` drops the underscores, which only hides labels that have some."""
    if naming == "squashed":
        menu = tuple(q for q in style.menu if "_" in q)
        kept = [q for q in quants if "_" in q] or list(menu[:1])
        if kept:
            return dataclasses.replace(style, menu=menu, naming=naming, folder="none"), kept
        naming = "bare"
    return dataclasses.replace(style, menu=tuple(quants[:1]), naming=naming, folder="none"), quants[:1]


def _gguf_name(style: Style, stem: str, quant: str) -> str:
    if style.naming == "model":
        return "model.gguf"
    if style.naming == "bare":
        return f"{stem}.gguf"
    if style.naming == "squashed":
        return f"{stem}-{quant.replace('_', '').lower()}.gguf"
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
    # A conversion (F16, BF16, F32) keeps general.file_type where convert_hf_to_gguf wrote it.
    last = recipe.quantized_since_2025 and quant not in ("F16", "BF16", "F32")
    if shards == 1 or style.split_naming in ("bytes", "parts"):
        spec = GGUFSpec(family, quant, model_name, quantized_by=recipe.quantized_by, file_type_last=last)
        if shards == 1:
            return [lfs_file(name, total, key=key, gguf=spec)]
        # Cut with `split`: the first part starts with the whole file's header, the rest are bytes.
        return [
            lfs_file(
                f"{name}-split-{chr(ord('a') + shard)}"
                if style.split_naming == "bytes"
                else f"{name}.part{shard + 1}of{shards}",
                _shard_size(total, shards, shard),
                key=key,
                gguf=spec if shard == 0 else None,
            )
            for shard in range(shards)
        ]
    base = name.removesuffix(".gguf")
    folder = {"none": "", "quant": f"{quant}/", "file": f"{base}/"}[style.folder]
    infix = "-split" if style.split_naming == "split" else ""
    files = []
    for shard in range(shards):
        path = f"{folder}{base}{infix}-{shard + 1:05d}-of-{shards:05d}.gguf"
        spec = GGUFSpec(family, quant, model_name, "model", shard, shards, recipe.quantized_by, last)
        files.append(lfs_file(path, _shard_size(total, shards, shard), key=key, gguf=spec))
    return files


def _shard_size(total: int, shards: int, shard: int) -> int:
    return total // shards + (total % shards if shard == shards - 1 else 0)


def _projector_files(recipe: Recipe, key: str) -> list[HubFile]:
    files = []
    for pattern in recipe.style.mmproj:
        path = pattern.format(stem=recipe.stem)
        quant = path.removesuffix(".gguf").rsplit("-", 1)[1].upper()
        size = round(recipe.family.vision_parameters * quantization(quant).bits_per_weight / 8)
        spec = GGUFSpec(recipe.family, quant, f"{recipe.stem} mmproj", "mmproj")
        files.append(lfs_file(path, size + (4 << 20), key=key, gguf=spec))
    return files


def edited_files(repo: Repo, rng: random.Random, key: str) -> list[HubFile]:
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
