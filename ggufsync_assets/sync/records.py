"""From a Hub listing record to a catalogue row, or to a rejection that says why.

The Hub omits properties it does not have, and a record can arrive broken; schema validation
(validation.enable_schema_validation) checks every record before it reaches the catalogue, and
validation.enable_automatic_fixes repairs the mistakes that have one obvious repair, saying which.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from ggufsync_assets.catalogue.contract import listing_row
from ggufsync_assets.gguf.names import is_gguf_path
from ggufsync_assets.hub.client import parse_hub_time
from ggufsync_assets.settings import Settings

if TYPE_CHECKING:
    from huggingface_hub.hf_api import ExpandModelProperty_T

# ASCII only and at most 96 characters a part, as the Hub allows (huggingface_hub's validate_repo_id).
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}", re.ASCII)
SHA = re.compile(r"[0-9a-f]{40}")
INT64_MAX = 2**63 - 1
"""The largest count or size the catalogue's BIGINT columns hold."""

# Everything the listing can return that a catalogue row needs: one listing, no detail calls.
# Typed with huggingface_hub's own list of expand properties, so a misspelt one fails type checking.
LISTING_EXPAND: tuple[ExpandModelProperty_T, ...] = (
    "author",
    "sha",
    "createdAt",
    "lastModified",
    "downloads",
    "likes",
    "gated",
    "pipeline_tag",
    "library_name",
    "tags",
    "cardData",
    "gguf",
    "siblings",
)


def _unicode_text(value: Any) -> Any:
    """Refuse text holding a lone surrogate anywhere within `value`: JSON can escape one ("\\ud800"),
    but it is not Unicode, so no catalogue or export could store it."""
    pending = [value]
    while pending:  # no recursion: a record may nest as deep as the JSON parser allows
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("holds text that is not valid Unicode (a lone surrogate)") from None
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


def _printable(text: str) -> str:
    """`text` with anything that is not Unicode escaped, so that it can be stored."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class HubModel(BaseModel):
    """Part of a Hub answer: properties the catalogue does not use are ignored, and text must be Unicode."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        return _unicode_text(value)


class GgufSummary(HubModel):
    total: StrictInt | None = Field(None, ge=0, le=INT64_MAX)
    architecture: str | None = None
    context_length: StrictInt | None = Field(None, ge=0, le=INT64_MAX)


class Sibling(HubModel):
    rfilename: str


NULL_AS_OMITTED = ("downloads", "likes", "gated", "tags")


class ListingRecord(HubModel):
    """The part of a `/api/models` record the catalogue uses, with the types the Hub promises."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = Field(None, alias="createdAt")
    last_modified: datetime = Field(alias="lastModified")
    downloads: StrictInt = Field(0, ge=0, le=INT64_MAX)
    likes: StrictInt = Field(0, ge=0, le=INT64_MAX)
    gated: StrictBool | Literal["auto", "manual"] = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    card_data: dict[str, Any] | None = Field(None, alias="cardData")
    gguf: GgufSummary | None = None
    siblings: list[Sibling] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _null_as_omitted(cls, data: Any) -> Any:
        """A null where the Hub sends a count, a gating flag or a tag list (huggingface_hub's ModelInfo
        takes either) is the property omitted: its default. A null file list stays an error: without
        it nothing says whether the repo holds GGUF files."""
        if isinstance(data, dict) and any(data.get(key, 0) is None for key in NULL_AS_OMITTED):
            return {
                key: value for key, value in data.items() if not (key in NULL_AS_OMITTED and value is None)
            }
        return data

    @property
    def owner(self) -> str:
        return self.author or self.id.split("/", 1)[0]

    @property
    def summary(self) -> GgufSummary:
        return self.gguf or GgufSummary()

    @property
    def license(self) -> str | None:
        """cardData's license, else the `license:` tag."""
        value = (self.card_data or {}).get("license")
        if isinstance(value, str) and value:
            return value
        return next((t.removeprefix("license:") for t in self.tags if t.startswith("license:")), None)

    @property
    def has_card(self) -> bool:
        """A model card: its metadata came with the listing, or a README is among the files."""
        return bool(self.card_data) or any(s.rfilename.lower() == "readme.md" for s in self.siblings)

    @property
    def base_models(self) -> list[str]:
        """cardData's base_model (a string or a list), else the `base_model:` tags."""
        value = (self.card_data or {}).get("base_model")
        if isinstance(value, str) and value:
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            return list(dict.fromkeys(value))
        found = []
        for tag in self.tags:
            if not tag.startswith("base_model:"):
                continue
            rest = tag.removeprefix("base_model:")
            relation, sep, target = rest.partition(":")
            found.append(target if sep and "/" not in relation else rest)
        return list(dict.fromkeys(found))

    @field_validator("id")
    @classmethod
    def _repo_id(cls, value: str) -> str:
        if not REPO_ID.fullmatch(value):
            raise ValueError("is not an owner/name repository id")
        return value

    @field_validator("sha")
    @classmethod
    def _sha(cls, value: str | None) -> str | None:
        if value is not None and not SHA.fullmatch(value):
            raise ValueError("is not a 40-character hex commit id")
        return value

    @field_validator("last_modified", "created_at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """The Hub sends ISO 8601 text; pydantic alone would read a number as seconds since 1970."""
        if value is None or isinstance(value, datetime):
            return value
        moment = parse_hub_time(value)
        if moment is None:
            raise ValueError("is not an ISO 8601 timestamp")
        return moment

    @field_validator("last_modified", "created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("has no time zone")
        return value


@dataclass
class Outcome:
    """What one listing record became."""

    row: dict[str, Any] | None = None
    reason: str | None = None
    fixes: list[str] = field(default_factory=list)
    has_gguf_files: bool = False


def _fix(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Repairs with exactly one sensible answer; anything else stays broken and is rejected."""
    fixed, notes = dict(record), []
    if isinstance(fixed.get("id"), str) and fixed["id"] != fixed["id"].strip():
        fixed["id"] = fixed["id"].strip()
        notes.append("id: stripped surrounding whitespace")
    for key in ("downloads", "likes"):
        value = fixed.get(key)
        if isinstance(value, str) and (number := _count(value)) is not None:
            fixed[key] = number
            notes.append(f"{key}: numeric string made a number")
        elif value is None and key in fixed:
            fixed[key] = 0
            notes.append(f"{key}: null made 0")
    if (
        isinstance(fixed.get("sha"), str)
        and SHA.fullmatch(fixed["sha"].lower())
        and not SHA.fullmatch(fixed["sha"])
    ):
        fixed["sha"] = fixed["sha"].lower()
        notes.append("sha: lower-cased")
    if fixed.get("tags") is None and "tags" in fixed:
        fixed["tags"] = []
        notes.append("tags: null made an empty list")
    if not _is_timestamp(fixed.get("lastModified")) and _is_timestamp(fixed.get("createdAt")):
        fixed["lastModified"] = fixed["createdAt"]
        notes.append("lastModified: missing or unreadable, createdAt used")
    return fixed, notes


def _count(text: str) -> int | None:
    """A count written as decimal digits, if it fits the catalogue (else there is no sensible repair)."""
    digits = text.strip()
    if not digits.isdecimal() or len(digits) > len(str(INT64_MAX)):  # isdigit() also takes "²", int() not
        return None
    number = int(digits)
    return number if number <= INT64_MAX else None


def _is_timestamp(value: Any) -> bool:
    moment = parse_hub_time(value)
    return moment is not None and moment.tzinfo is not None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def has_gguf_files(record: ListingRecord) -> bool:
    return any(is_gguf_path(s.rfilename) for s in record.siblings)


REQUIRED = frozenset({"id", "lastModified"})


def validate(record: Any, *, schema_validation: bool, automatic_fixes: bool) -> Outcome:
    """One raw record to a row (with the fixes applied) or a reason it was rejected.

    Without schema validation a record is only rejected when it lacks a usable id or
    lastModified; other broken properties are blanked (and the blanking reported as a fix).
    """
    if not isinstance(record, dict):
        return Outcome(reason=f"record is a {type(record).__name__}, not an object")
    fixes: list[str] = []
    if automatic_fixes:
        record, fixes = _fix(record)
    try:
        return _accepted(ListingRecord.model_validate(record), fixes)
    except ValidationError as exc:
        broken = {str(item["loc"][0]) for item in exc.errors() if item["loc"]}
        if schema_validation or broken & REQUIRED or not broken:
            return Outcome(reason=_describe(exc), fixes=fixes)
        blanked = {k: v for k, v in record.items() if k not in broken}
        fixes = [*fixes, *(f"{key}: unreadable, left empty" for key in sorted(broken))]
    try:
        return _accepted(ListingRecord.model_validate(blanked), fixes)
    except ValidationError as exc:
        return Outcome(reason=_describe(exc), fixes=fixes)


def _accepted(record: ListingRecord, fixes: list[str]) -> Outcome:
    return Outcome(row=listing_row(record), fixes=fixes, has_gguf_files=has_gguf_files(record))


def validate_with(settings: Settings, record: Any) -> Outcome:
    """`validate` as the settings ask (validation.enable_schema_validation and enable_automatic_fixes)."""
    return validate(
        record,
        schema_validation=settings.validation.enable_schema_validation,
        automatic_fixes=settings.validation.enable_automatic_fixes,
    )


def reject_row(record: Any, reason: str, *, run_id: str, stage: str, now: datetime) -> dict[str, Any]:
    repo_id = record.get("id") if isinstance(record, dict) and isinstance(record.get("id"), str) else None
    return {
        "run_id": run_id,
        "repo_id": _printable(repo_id) if repo_id is not None else None,
        "stage": stage,
        "reason": _printable(reason),
        "record": json.dumps(record, default=str)[:100_000],
        "rejected_at": now,
    }
