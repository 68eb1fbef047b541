"""docs/configuration.md documents every key the Settings model has, no key it lacks, and only tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ggufsync_assets.settings.model import key_paths

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _documented_keys() -> set[str]:
    keys: set[str] = set()
    section = ""
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^## (\w+)", line)
        if heading:
            section = "" if heading.group(1) == "Top" else heading.group(1)
            continue
        row = re.match(r"^\| `(\w+)` \|", line)
        if row and section != "Environment":
            keys.add(f"{section}.{row.group(1)}" if section else row.group(1))
    return keys


def test_every_key_is_documented() -> None:
    assert set(key_paths()) <= _documented_keys()


def test_no_documented_key_is_missing_from_the_model() -> None:
    assert _documented_keys() <= set(key_paths())


def _tests_in(path: Path) -> set[str]:
    """Each test function and class of a module, and `Class::name` for each test method."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def _cited_tests() -> list[tuple[str, str]]:
    """(module, test) for every test the page cites; `::name` continues the module (and class) cited
    before it in the same table row or paragraph, and a module cited alone stands for all of its
    tests (test "")."""
    cited: list[tuple[str, str]] = []
    module, scope = "", ""
    for line in DOC.read_text().splitlines():
        if line.startswith("|") or not line.strip():
            module, scope = "", ""
        for ref in re.findall(r"`([\w/]*(?:\.py)?(?:::\w+)*)`", line.split(" | ")[-1]):
            if ref.startswith("::"):
                name = ref[2:]
                cited.append((module, f"{scope}::{name}" if scope and "::" not in name else name))
            elif ref.endswith(".py") or ".py::" in ref:
                module, _, test = ref.partition("::")
                scope = test.rpartition("::")[0]
                cited.append((module, test))
    return cited


def test_every_test_the_page_cites_exists() -> None:
    tests = DOC.parents[1] / "ggufsync_tests"
    missing = []
    for module, test in _cited_tests():
        path = tests / module
        if not path.is_file() or (test and test not in _tests_in(path)):
            missing.append(f"{module}::{test}" if test else module)
    assert _cited_tests(), "the page cites no test"
    assert missing == []
