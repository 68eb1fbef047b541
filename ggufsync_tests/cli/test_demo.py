"""`ggufsync demo` as a user runs it: a process of its own, in a folder of its own, offline.

The demo is run once, with a small simulated Hub, its Dagster home and its catalogue in a temporary
folder; the tests read what it printed and what it left behind.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.common import CliError
from ggufsync_assets.cli.demo_cmd import EXAMPLES, simulated_hub
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import load_settings
from ggufsync_tests.pipeline.conftest import clean_environment, copy_config, gguf_repos

GGUFSYNC = Path(sys.executable).with_name("ggufsync")
REPOS = 40
SEED = 7
TIMEOUT = 300
"""Only for a demo that hangs; it takes seconds."""


@dataclass(frozen=True)
class Demo:
    returncode: int
    stdout: str
    stderr: str
    catalogue: Path
    home: Path
    config_dir: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo")
    catalogue, home = folder / "data" / "catalogue.duckdb", folder / "dagster_home"
    config_dir = copy_config(folder / "config")
    done = subprocess.run(
        [str(GGUFSYNC), "demo", "--repos", str(REPOS), "--seed", str(SEED), "--catalogue", str(catalogue)],
        cwd=folder,
        env=clean_environment(
            DAGSTER_HOME=str(home), GGUFSYNC_CONFIG_DIR=str(config_dir), HF_HOME=str(folder / "hf_home")
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Demo(done.returncode, done.stdout, done.stderr, catalogue, home, config_dir)


def test_the_demo_exits_0(demo: Demo) -> None:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]


def test_the_demo_catalogues_the_gguf_repos_of_its_simulated_hub(demo: Demo) -> None:
    authors = load_settings(directory=demo.config_dir, use_environment=False).settings.discovery.authors
    expected = gguf_repos(HubSimulator(repos=REPOS, seed=SEED), authors)  # the same seed, not started
    with CatalogueStore(demo.catalogue).reader() as con:
        catalogued = {repo_id for (repo_id,) in con.execute("SELECT repo_id FROM current_models").fetchall()}
    assert expected
    assert catalogued == set(expected)


@pytest.mark.parametrize("title", list(EXAMPLES))
def test_the_demo_prints_rows_for_each_example_query(demo: Demo, title: str) -> None:
    block = re.search(
        rf"^{re.escape(title)}:\n  ggufsync query \"{re.escape(EXAMPLES[title])}\"\n((?:    .+\n)+)",
        demo.stdout,
        re.MULTILINE,
    )
    assert block is not None, demo.stdout
    assert block.group(1).strip()


def test_the_demo_names_where_the_catalogue_is(demo: Demo) -> None:
    assert f"The catalogue is {demo.catalogue};" in demo.stdout


def test_the_demo_names_the_dagster_instance_that_holds_its_run(demo: Demo) -> None:
    assert f"The runs and checks are in the Dagster instance at {demo.home}:" in demo.stdout
    with dg.DagsterInstance.from_config(str(demo.home)) as instance:
        assert [run.status for run in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS]


def test_a_simulated_hub_that_cannot_start_says_why() -> None:
    with pytest.raises(CliError, match="--repos must be >= 0"), simulated_hub(repos=-1, seed=0):
        pass
