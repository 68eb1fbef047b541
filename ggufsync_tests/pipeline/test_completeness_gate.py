"""The completeness gate, through `ggufsync sync --env ENV` as a user runs it: on a realistic Hub (many
repos without a license, base model, card or GGUF summary) every shipped environment passes; when
the sync loses the file trees of 5 % of the repos, production fails, publishes nothing, and says why.

Settings are the shipped environment's, except the rate (loopback speed) and one retry instead of
production's five, so a tree that never answers costs a second, not a minute.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ggufsync_assets.cli.sync_cmd import EXIT_SYNC_FAILED
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_tests.pipeline.conftest import rows_of, start_simulator, user_environment

REPOS = 30
SEED = 83
BROKEN_SHARE = 0.05
GGUFSYNC = Path(sys.executable).with_name("ggufsync")
TIMEOUT = 240


@dataclass(frozen=True)
class Synced:
    returncode: int
    output: str
    catalogue: Path


def full_sync(sim: HubSimulator, folder: Path, env: str) -> Synced:
    catalogue = folder / "data" / "catalogue.duckdb"
    variables = user_environment(
        folder,
        sim.url,
        catalogue,
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND="500",
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR="10000000",
        GGUFSYNC_RATE_LIMITING__MAX_RETRIES="1",
        GGUFSYNC_LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [str(GGUFSYNC), "sync", "--env", env, "--mode", "full"],
        env=variables,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Synced(done.returncode, done.stdout + done.stderr, catalogue)


@pytest.fixture(scope="module")
def realistic(module_environment: Path) -> Iterator[HubSimulator]:
    sim = start_simulator(REPOS, SEED)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def trees_lost(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    sim = start_simulator(REPOS, SEED, broken_tree_share=BROKEN_SHARE)
    try:
        yield full_sync(sim, tmp_path_factory.mktemp("broken"), "production")
    finally:
        sim.stop()


@pytest.mark.parametrize("env", ["development", "staging", "production"])
def test_every_shipped_environment_passes_the_gate_on_a_realistic_hub(
    realistic: HubSimulator, tmp_path: Path, env: str
) -> None:
    synced = full_sync(realistic, tmp_path, env)

    assert synced.returncode == 0, synced.output
    [(repos, lost, untold)] = rows_of(
        synced.catalogue,
        "SELECT count(*), count(*) FILTER (WHERE completeness_score < 1), count(*) FILTER (WHERE card_score < 1) "
        "FROM current_models",
    )
    assert repos > 0
    assert lost == 0  # the sync lost nothing...
    assert untold > 0  # ...although uploaders left things out: that shows in the card score


def test_losing_five_percent_of_the_trees_fails_production(trees_lost: Synced) -> None:
    assert trees_lost.returncode == EXIT_SYNC_FAILED, trees_lost.output


def test_a_sync_failing_the_gate_publishes_nothing(trees_lost: Synced) -> None:
    assert not trees_lost.catalogue.exists()


def test_the_failure_names_the_check_the_mean_the_share_below_and_the_reasons(trees_lost: Synced) -> None:
    pattern = (
        r"blocking check completeness_meets_minimum failed: mean completeness 0\.\d+ [<>]=? "
        r"validation\.min_completeness_score 0\.95; \d+ of \d+ repos \([\d.]+%\) below it, > "
        r"validation\.max_share_below_minimum 1\.0%; why: no file tree \(\d+ repos\); worst: "
    )
    assert re.search(pattern, trees_lost.output), trees_lost.output
