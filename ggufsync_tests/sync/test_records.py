"""From a Hub listing record to a catalogue row, or to a rejection that says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ggufsync_assets.sync.records import Outcome, reject_row, validate

SHA = "0123456789abcdef0123456789abcdef01234567"


def record(**overrides: Any) -> dict[str, Any]:
    """A complete listing record, as `/api/models?expand=...` returns it."""
    value: dict[str, Any] = {
        "_id": "66f0c0ffee",
        "id": "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "author": "bartowski",
        "sha": SHA,
        "createdAt": "2024-09-19T10:00:00.000Z",
        "lastModified": "2024-09-20T08:30:15.250Z",
        "downloads": 1234,
        "likes": 56,
        "gated": False,
        "pipeline_tag": "text-generation",
        "library_name": "gguf",
        "tags": [
            "gguf",
            "text-generation",
            "base_model:Qwen/Qwen2.5-7B-Instruct",
            "base_model:quantized:Qwen/Qwen2.5-7B-Instruct",
            "license:apache-2.0",
        ],
        "cardData": {"license": "apache-2.0", "base_model": "Qwen/Qwen2.5-7B-Instruct"},
        "gguf": {"total": 7_615_616_512, "architecture": "qwen2", "context_length": 32_768},
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "Qwen2.5-7B-Instruct-Q4_K_M.gguf"}],
    }
    value.update(overrides)
    return value


def without(*keys: str, **overrides: Any) -> dict[str, Any]:
    return {k: v for k, v in record(**overrides).items() if k not in keys}


def accept(raw: Any, *, schema_validation: bool = True, automatic_fixes: bool = False) -> Outcome:
    outcome = validate(raw, schema_validation=schema_validation, automatic_fixes=automatic_fixes)
    assert outcome.row is not None, outcome.reason
    return outcome


def row_of(raw: Any, **options: bool) -> dict[str, Any]:
    row = accept(raw, **options).row
    assert row is not None
    return row


def reject(raw: Any, *, schema_validation: bool = True, automatic_fixes: bool = False) -> str:
    outcome = validate(raw, schema_validation=schema_validation, automatic_fixes=automatic_fixes)
    assert outcome.row is None, f"accepted: {outcome.row}"
    assert outcome.reason
    return outcome.reason


# ----- a valid record -------------------------------------------------------------------------


def test_a_valid_record_becomes_a_row() -> None:
    """The values of the record's columns (which columns a row has is catalogue/test_contract.py's)."""
    outcome = accept(record())
    assert outcome.row is not None
    expected = {
        "repo_id": "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "author": "bartowski",
        "sha": SHA,
        "created_at": datetime(2024, 9, 19, 10, 0, tzinfo=UTC),
        "last_modified": datetime(2024, 9, 20, 8, 30, 15, 250_000, tzinfo=UTC),
        "downloads": 1234,
        "likes": 56,
        "gated": False,
        "gated_mode": None,
        "pipeline_tag": "text-generation",
        "library_name": "gguf",
        "license": "apache-2.0",
        "base_models": ["Qwen/Qwen2.5-7B-Instruct"],
        "tags": record()["tags"],
        "architecture": "qwen2",
        "parameter_count": 7_615_616_512,
        "context_length": 32_768,
    }
    assert {key: outcome.row[key] for key in expected} == expected
    assert outcome.fixes == []
    assert outcome.has_gguf_files


def test_the_license_comes_from_the_card() -> None:
    assert row_of(record(cardData={"license": "mit"}, tags=["license:other"]))["license"] == "mit"


def test_without_a_card_license_the_license_tag_is_used() -> None:
    assert row_of(record(cardData={"base_model": "x/y"}))["license"] == "apache-2.0"
    assert row_of(without("cardData"))["license"] == "apache-2.0"


def test_without_card_license_or_license_tag_the_license_is_unknown() -> None:
    assert row_of(without("cardData", tags=["gguf"]))["license"] is None


@pytest.mark.parametrize(
    ("card", "tags", "expected"),
    [
        ({"base_model": "meta-llama/Llama-3.1-8B"}, ["base_model:other/model"], ["meta-llama/Llama-3.1-8B"]),
        ({"base_model": ["a/one", "b/two", "a/one"]}, [], ["a/one", "b/two"]),
        (None, ["gguf", "base_model:a/one"], ["a/one"]),
        (None, ["base_model:quantized:a/one"], ["a/one"]),
        (
            None,
            ["base_model:a/one", "base_model:quantized:a/one", "base_model:finetune:b/two"],
            ["a/one", "b/two"],
        ),
        ({"base_model": []}, ["base_model:quantized:a/one"], ["a/one"]),
        (None, ["gguf"], []),
    ],
    ids=["card-string", "card-list", "tag", "quantized-tag", "tags-deduplicated", "empty-card-list", "none"],
)
def test_base_models_come_from_the_card_else_from_base_model_tags(
    card: dict[str, Any] | None, tags: list[str], expected: list[str]
) -> None:
    assert row_of(record(cardData=card, tags=tags))["base_models"] == expected


@pytest.mark.parametrize(
    ("gated", "is_gated", "mode"), [(False, False, None), ("auto", True, "auto"), ("manual", True, "manual")]
)
def test_gating_is_a_flag_and_a_mode(gated: Any, is_gated: bool, mode: str | None) -> None:
    row = row_of(record(gated=gated))
    assert (row["gated"], row["gated_mode"]) == (is_gated, mode)


def test_the_gguf_summary_gives_parameters_architecture_and_context() -> None:
    row = row_of(
        record(gguf={"total": 1_000, "architecture": "llama", "context_length": 8192, "eos": "</s>"})
    )
    assert (row["parameter_count"], row["architecture"], row["context_length"]) == (1_000, "llama", 8192)


def test_properties_the_hub_omits_are_unknown() -> None:
    minimal = {"id": "someone/Thing-GGUF", "lastModified": "2024-01-01T00:00:00.000Z"}
    row = row_of(minimal)
    for name in (
        "sha",
        "created_at",
        "gated_mode",
        "pipeline_tag",
        "library_name",
        "license",
        "architecture",
        "parameter_count",
        "context_length",
    ):
        assert row[name] is None, name
    assert (row["base_models"], row["tags"], row["gated"]) == ([], [], False)
    assert row["author"] == "someone"  # the owner part of the id


@pytest.mark.parametrize(
    ("siblings", "expected"),
    [
        ([{"rfilename": "model-Q4_K_M.gguf"}], True),
        ([{"rfilename": "Q8_0/model-Q8_0-00001-of-00002.gguf"}], True),
        ([{"rfilename": "README.md"}, {"rfilename": "gguf/config.json"}, {"rfilename": ".gguf"}], False),
        ([], False),
    ],
)
def test_has_gguf_files_looks_at_the_siblings(siblings: list[dict[str, str]], expected: bool) -> None:
    assert accept(record(siblings=siblings)).has_gguf_files is expected


# ----- rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (without("id"), "id: Field required"),
        (record(id="not-a-repo-id"), "id: is not an owner/name repository id"),
        (record(id=42), "id"),
        (without("lastModified"), "lastModified: Field required"),
        (record(lastModified="yesterday"), "lastModified: is not an ISO 8601 timestamp"),
        (record(lastModified=1_700_000_000), "lastModified: is not an ISO 8601 timestamp"),
        (record(lastModified="2024-01-01T00:00:00"), "lastModified: has no time zone"),
        (record(downloads="12"), "downloads"),
        (record(likes=-1), "likes"),
        (record(sha="abc123"), "sha: is not a 40-character hex commit id"),
        (record(sha=SHA.upper()), "sha: is not a 40-character hex commit id"),
        (record(tags="gguf"), "tags"),
        (record(gated="yes"), "gated"),
        (record(gguf={"total": "7B"}), "gguf.total"),
    ],
    ids=[
        "missing-id",
        "bad-id",
        "id-not-text",
        "missing-lastModified",
        "unreadable-lastModified",
        "lastModified-number",
        "lastModified-without-zone",
        "downloads-text",
        "negative-likes",
        "short-sha",
        "upper-case-sha",
        "tags-not-a-list",
        "unknown-gating",
        "gguf-total-text",
    ],
)
def test_a_broken_record_is_rejected_with_a_reason_naming_the_property(
    raw: dict[str, Any], where: str
) -> None:
    assert where in reject(raw)


@pytest.mark.parametrize(("key", "default"), [("downloads", 0), ("likes", 0), ("gated", False), ("tags", [])])
def test_a_null_count_gating_or_tag_list_is_read_as_omitted(key: str, default: Any) -> None:
    assert accept(record(**{key: None})).row is not None
    assert row_of(record(**{key: None})) == row_of(without(key))


def test_a_null_file_list_is_rejected() -> None:
    assert "siblings" in reject(record(siblings=None))


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    assert reject(["id", "a/b"]) == "record is a list, not an object"


# ----- automatic fixes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "value", "fix"),
    [
        (record(id="  a/b  "), "repo_id", "a/b", "id: stripped surrounding whitespace"),
        (record(downloads="12"), "downloads", 12, "downloads: numeric string made a number"),
        (record(likes=" 7 "), "likes", 7, "likes: numeric string made a number"),
        (record(downloads=None), "downloads", 0, "downloads: null made 0"),
        (record(likes=None), "likes", 0, "likes: null made 0"),
        (record(sha=SHA.upper()), "sha", SHA, "sha: lower-cased"),
        (record(tags=None), "tags", [], "tags: null made an empty list"),
        (
            without("lastModified"),
            "last_modified",
            datetime(2024, 9, 19, 10, 0, tzinfo=UTC),
            "lastModified: missing or unreadable, createdAt used",
        ),
        (
            record(lastModified=1_700_000_000),
            "last_modified",
            datetime(2024, 9, 19, 10, 0, tzinfo=UTC),
            "lastModified: missing or unreadable, createdAt used",
        ),
    ],
)
def test_an_automatic_fix_repairs_the_record_and_is_named(
    raw: dict[str, Any], field: str, value: Any, fix: str
) -> None:
    outcome = accept(raw, automatic_fixes=True)
    assert outcome.row is not None
    assert outcome.row[field] == value
    assert outcome.fixes == [fix]


@pytest.mark.parametrize(
    "raw",
    [
        record(downloads="twelve"),
        record(downloads="²"),  # a digit to str.isdigit(), not a number to int()
        record(sha="not-a-sha"),
        without("lastModified", "createdAt"),
        without("id"),
    ],
    ids=["downloads-words", "downloads-superscript", "bad-sha", "no-timestamps", "no-id"],
)
def test_fixes_never_guess_a_value(raw: dict[str, Any]) -> None:
    reject(raw, automatic_fixes=True)


def test_several_fixes_are_all_named() -> None:
    outcome = accept(record(downloads="3", likes=None, tags=None), automatic_fixes=True)
    assert outcome.fixes == [
        "downloads: numeric string made a number",
        "likes: null made 0",
        "tags: null made an empty list",
    ]


# ----- without schema validation --------------------------------------------------------------


def test_without_schema_validation_unreadable_optional_properties_are_left_empty() -> None:
    outcome = accept(
        record(downloads="lots", gguf={"total": "7B"}, pipeline_tag=7),
        schema_validation=False,
    )
    assert outcome.row is not None
    assert (outcome.row["downloads"], outcome.row["parameter_count"], outcome.row["pipeline_tag"]) == (
        0,
        None,
        None,
    )
    assert outcome.row["likes"] == 56  # readable properties are kept
    assert outcome.fixes == [
        "downloads: unreadable, left empty",
        "gguf: unreadable, left empty",
        "pipeline_tag: unreadable, left empty",
    ]


@pytest.mark.parametrize(
    "raw",
    [without("id"), record(id="nope"), without("lastModified"), record(lastModified=1_700_000_000)],
    ids=["missing-id", "bad-id", "missing-lastModified", "lastModified-number"],
)
def test_without_schema_validation_a_record_still_needs_id_and_last_modified(raw: dict[str, Any]) -> None:
    reject(raw, schema_validation=False)


# ----- rejected rows --------------------------------------------------------------------------


def test_a_reject_row_keeps_the_repo_the_reason_and_the_record() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    raw = record(downloads="12")
    row = reject_row(raw, reject(raw), run_id="run-1", stage="listing", now=now)
    assert row["repo_id"] == "bartowski/Qwen2.5-7B-Instruct-GGUF"
    assert (row["run_id"], row["stage"], row["rejected_at"]) == ("run-1", "listing", now)
    assert "downloads" in row["reason"]
    assert json.loads(row["record"]) == raw


def test_a_reject_row_of_a_record_without_a_usable_id_has_no_repo() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert (
        reject_row(without("id"), "id: Field required", run_id="r", stage="listing", now=now)["repo_id"]
        is None
    )
    assert reject_row([1, 2], "not an object", run_id="r", stage="listing", now=now)["repo_id"] is None
