"""The Dagster UI as a user sees it after `ggufsync demo`: headless Chromium against `dagster dev`.

One demo (a small simulated Hub, a full sync) runs in a folder of its own; `dagster dev` serves its
instance on a loopback port; Chromium (the distribution's package, driven by Playwright) opens the
pages a user opens and reads what they show. Each page is saved as a screenshot, in the test's
temporary folder or in GGUFSYNC_UI_SCREENSHOTS (README's images come from there).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ggufsync_assets.definitions import build_definitions
from ggufsync_assets.defs.jobs import CODE_LOCATION, SYNC_JOB
from ggufsync_assets.defs.partitions import DAILY
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.tags import MODE_TAG, RANGE_END_TAG, RANGE_START_TAG
from ggufsync_tests.pipeline.conftest import REPO_ROOT, Setup, clean_environment, copy_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium): the UI tests need it"
)

BIN = Path(sys.executable).parent
REPOS = 30
SEED = 11
STARTUP_SECONDS = 180.0
"""Only for a `dagster dev` that never comes up; it takes 10 to 30 s."""
PAGE_MS = 30_000
"""How long a page may take to show what is asserted (Playwright polls until then)."""
ASSETS = ("gguf_model_listing", "gguf_model_files", "gguf_model_completeness", "gguf_catalogue")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The folder where the demo ran, as a user's setup: its Dagster home, config and catalogue."""
    folder = tmp_path_factory.mktemp("ui")
    shutil.copy(REPO_ROOT / "workspace.yaml", folder / "workspace.yaml")
    home, config_dir = folder / "dagster_home", copy_config(folder / "config")
    variables = {
        "DAGSTER_HOME": str(home),
        "GGUFSYNC_CONFIG_DIR": str(config_dir),
        "HF_HOME": str(folder / "hf_home"),
    }
    setup = Setup(home, config_dir, folder / "data" / "catalogue.duckdb", variables)
    done = subprocess.run(
        [str(BIN / "ggufsync"), "demo", "--repos", str(REPOS), "--seed", str(SEED)],
        cwd=folder,
        env=clean_environment(**setup.variables),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return setup


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STARTS = 3
"""Attempts at starting `dagster dev`: a port found free can be taken by another process before
the webserver binds it; then it is started again on another."""


def _location_loaded(url: str) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    try:
        reply = httpx.post(f"{url}/graphql", json={"query": query}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    entries = (reply.get("data") or {}).get("workspaceOrError", {}).get("locationEntries", [])
    return any(e["name"] == CODE_LOCATION and e["loadStatus"] == "LOADED" for e in entries)


@pytest.fixture(scope="module")
def ui(synced: Setup) -> Iterator[str]:
    """`dagster dev` on the demo's instance, as `make ui` starts it; stopped with its children."""
    log_path = synced.home.parent / "dagster-dev.log"
    for attempt in range(1, STARTS + 1):
        with _dagster_dev(synced, log_path) as (server, url):
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (loaded := _location_loaded(url)) and time.monotonic() < deadline:
                if _port_taken(log_path) or server.poll() is not None:
                    break
                time.sleep(1)
            if loaded:
                yield url
                return
            if not _port_taken(log_path) or attempt == STARTS:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"dagster dev did not serve the ggufsync code location:\n{tail}")


def _port_taken(log_path: Path) -> bool:
    """The webserver could not bind its port (`dagster dev` itself keeps running without it)."""
    return "address already in use" in log_path.read_text(errors="replace")


@contextlib.contextmanager
def _dagster_dev(synced: Setup, log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """One `dagster dev` on a free loopback port, and its URL; stopped with its children."""
    port = _free_port()
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=synced.home.parent,
            env=clean_environment(**synced.variables),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield server, f"http://127.0.0.1:{port}"
        finally:
            with contextlib.suppress(ProcessLookupError):  # it has exited already
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):  # it has exited already
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("GGUFSYNC_UI_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Chromium refuses to sandbox itself as root (a container's usual user).
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def visitor(browser: Browser, ui: str) -> Iterator[BrowserContext]:
    """One visitor's browser session, as a user's: its first visit's newsletter prompt dismissed."""
    context = browser.new_context(base_url=ui, viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(PAGE_MS)
    tab = context.new_page()
    tab.goto("/")
    with contextlib.suppress(PlaywrightTimeout):  # the prompt is not shown to every visitor
        tab.get_by_role("button", name="Skip").click(timeout=10_000)
    tab.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(visitor: BrowserContext) -> Iterator[Page]:
    tab = visitor.new_page()
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture(scope="module")
def sync_run(synced: Setup) -> dg.DagsterRun:
    with dg.DagsterInstance.from_config(str(synced.home)) as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB))
        return run


@functools.cache
def _descriptions(config_dir: Path) -> dict[str, str]:
    """Each asset's description's first line, as the code location defines it."""
    graph = build_definitions(SyncResource(config_dir=str(config_dir))).resolve_asset_graph()
    return {name: (graph.get(dg.AssetKey(name)).description or "").splitlines()[0] for name in ASSETS}


def test_the_asset_graph_shows_the_four_assets_with_their_kinds(page: Page, screenshots: Path) -> None:
    page.goto(f"/locations/{CODE_LOCATION}/asset-groups/gguf/lineage")
    for name in ASSETS:
        page.get_by_text(name, exact=True).first.wait_for()
    for kind in ("Hugging Face", "DuckDB", "Parquet"):
        page.get_by_text(kind, exact=True).first.wait_for()
    page.screenshot(path=screenshots / "asset-graph.png")


@pytest.mark.parametrize("asset", ASSETS)
def test_an_asset_selected_in_the_graph_shows_what_it_is(
    page: Page, synced: Setup, asset: str, screenshots: Path
) -> None:
    page.goto(f"/locations/{CODE_LOCATION}/asset-groups/gguf/lineage/{asset}")
    page.get_by_text(_descriptions(synced.config_dir)[asset]).first.wait_for()
    page.screenshot(path=screenshots / f"selected-{asset}.png")


def test_the_listing_partitions_view_marks_every_synced_day_materialized(
    page: Page, sync_run: dg.DagsterRun, screenshots: Path
) -> None:
    first, last = sync_run.tags[RANGE_START_TAG], sync_run.tags[RANGE_END_TAG]
    synced_days = len(DAILY.get_partition_keys_in_range(dg.PartitionKeyRange(first, last)))
    unsynced_before = len(DAILY.get_partition_keys()) - synced_days
    page.goto("/assets/gguf_model_listing?view=partitions")
    page.get_by_text(f"Materialized ({synced_days})").first.wait_for()
    # None, unless UTC midnight has passed since the demo: the new day is not synced yet.
    unsynced_now = len(DAILY.get_partition_keys()) - synced_days
    page.get_by_text(re.compile(rf"^Missing \(({unsynced_before}|{unsynced_now})\)$")).first.wait_for()
    page.get_by_text("Failed (0)").first.wait_for()
    page.get_by_text(last, exact=True).first.wait_for()
    page.screenshot(path=screenshots / "listing-partitions.png")


def test_the_completeness_checks_show_their_description_and_last_result(
    page: Page, screenshots: Path
) -> None:
    page.goto("/assets/gguf_model_completeness?view=checks")
    page.get_by_text("completeness_meets_minimum").first.wait_for()
    page.get_by_text("This is a blocking asset check.").first.wait_for()
    page.get_by_text("The catalogue holds what the Hub offers", exact=False).first.wait_for()
    page.get_by_text("Passed", exact=True).first.wait_for()
    page.screenshot(path=screenshots / "completeness-checks.png")


def test_the_run_list_shows_the_sync_with_its_mode(
    page: Page, sync_run: dg.DagsterRun, screenshots: Path
) -> None:
    page.goto("/runs")
    page.get_by_text(sync_run.run_id[:8], exact=True).first.wait_for()
    page.get_by_text(f"{MODE_TAG}: full", exact=True).first.wait_for()
    page.get_by_text("Success", exact=True).first.wait_for()
    page.screenshot(path=screenshots / "runs.png")


def test_the_run_shows_the_partition_range_it_synced(page: Page, sync_run: dg.DagsterRun) -> None:
    page.goto(f"/runs/{sync_run.run_id}")
    page.get_by_role("button", name="View tags and config").click()
    dialog = page.get_by_role("dialog")
    for tag in (RANGE_START_TAG, RANGE_END_TAG):
        shown = tag.removeprefix("dagster/")  # the UI shows Dagster's own tags without their prefix
        dialog.get_by_text(f"{shown}: {sync_run.tags[tag]}", exact=True).wait_for()
    dialog.get_by_text(f"{MODE_TAG}: full", exact=True).wait_for()


def test_the_jobs_runs_tab_lists_the_sync_the_cli_ran(page: Page, sync_run: dg.DagsterRun) -> None:
    page.goto(f"/locations/{CODE_LOCATION}/jobs/{SYNC_JOB}/runs")
    page.get_by_text(sync_run.run_id[:8], exact=True).first.wait_for()
