"""The sync's speed, cost and memory against the Hub simulator on this machine, in one run.

    .venv/bin/python -m bench [--repos 2000]      (or `make bench`)

Measures, against simulators on loopback (no quota, and for the comparison 20 ms per request):
- steps_s: the sync steps alone (list, refresh files, score, publish), no Dagster, in a process of
  their own (bench/steps.py), as the sync's are;
- full_s: `ggufsync sync --mode full` as a user runs it, on a new persistent Dagster home;
  framework_ratio = full_s / steps_s;
- requests and request_ratio: what the full sync asked the Hub's API host for, over the least it
  could have asked (its listing pages, one tree call per repo it catalogued, and its header reads:
  Range requests for GGUF headers, also printed as header_reads);
- incr_s, incr_requests: `ggufsync sync --mode incremental` after 1 % of the repos changed;
- help_s, query_s: `ggufsync --help` and `ggufsync query` (medians of three);
- rss_ratio: the peak memory of a full sync of ten times as many repos over that of one of --repos
  (both without header reads, see `memory`);
- naive_full_ratio, naive_daily_ratio: what most people write (huggingface_hub's `list_models`,
  then `model_info(files_metadata=True)` per repo, serially) over our full and our daily sync, with
  every answer 20 ms late; both of ours include process start-up and, like the script, read no
  GGUF header (the same work: every repo and its files);
- naive_full_ceiling: the naive script's time over that of every repo's tree fetched with plain
  httpx as many at a time as the sync asks for them (bench/trees_alone.py): the best full-sync
  ratio any client at that concurrency could reach, with listing, processing, writes and start-up
  free;
- tight_429s, quota_use: a full sync whose work needs several windows of a tight advertised quota
  (150 per 20 s): the 429s it got, and the share of the quota it used in the windows it filled.
With --memory instead: the peak memory of a full sync at --repos and at ten times as many, and
their ratio (one `MEMORY ...` line).
Prints a table, then one `BENCH ...` line, and writes the same figures as JSON under bench/results/.
Bounded by --repos; every request goes to loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.demo_cmd import demo_overrides
from ggufsync_assets.hubsim import HubSimulator

ROOT = Path(__file__).resolve().parents[1]
GGUFSYNC = Path(sys.executable).with_name("ggufsync")
QUOTA = 10_000_000
LATENCY = 0.02
TIGHT_QUOTA = 150
TIGHT_WINDOW = 20.0
TIGHT_REPOS = 500
"""The pacing run: the Hub's anonymous quota (500 per 5 minutes) scaled down to keep the benchmark
short, and a Hub whose sync needs over three of its windows."""
LISTING_PATH = "/api/models"


@dataclass
class Process:
    seconds: float
    peak_rss_mb: float
    output: str


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Process:
    """One command to its end: wall time and peak memory (its own: bench/rusage.py), what it printed."""
    with tempfile.NamedTemporaryFile(prefix="ggufsync-bench-", suffix=".json") as report:
        launched = [sys.executable, "-m", "bench.rusage", report.name, "--", *argv]
        process = subprocess.run(
            launched,
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{process.stdout[-3000:]}")
        figures = json.loads(Path(report.name).read_text())
    return Process(figures["seconds"], figures["peak_rss_mb"], process.stdout)


def environment(sim: HubSimulator, folder: Path) -> dict[str, str]:
    """A user's environment for `ggufsync`: this simulator, a private home, config and catalogue."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("GGUFSYNC_", "HF_", "DAGSTER_"))}
    config = folder / "config"
    config.mkdir(exist_ok=True)
    (config / "sync-config.yaml").write_text("environment: development\n")
    overrides = demo_overrides(sim.url, folder / "data" / "catalogue.duckdb")
    return {
        **kept,
        "DAGSTER_HOME": str(folder / "dagster_home"),
        "GGUFSYNC_CONFIG_DIR": str(config),
        "HF_ENDPOINT": sim.url,
        "HF_HOME": str(folder / "hf_home"),
        "GGUFSYNC_SECURITY__ALLOWED_DOMAINS": json.dumps(overrides["security.allowed_domains"]),
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND": str(overrides["rate_limiting.requests_per_second"]),
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR": str(overrides["rate_limiting.requests_per_hour"]),
        "GGUFSYNC_RATE_LIMITING__MAX_CONCURRENT_REQUESTS": str(
            overrides["rate_limiting.max_concurrent_requests"]
        ),
        "GGUFSYNC_STORAGE__CATALOGUE_PATH": overrides["storage.catalogue_path"],
        "GGUFSYNC_LOG_LEVEL": "WARNING",
    }


def simulator(repos: int, *, latency: float = 0.0) -> HubSimulator:
    slow = {"fault_rate": 1.0, "fault_kinds": ["slow"], "slow_delay": latency} if latency else {}
    return HubSimulator(
        repos=repos, seed=3, now=datetime.now(UTC), api_quota=QUOTA, resolvers_quota=QUOTA, **slow
    )


def seconds_of(module: str, *args: str) -> float:
    """The seconds a bench module measured, run in a process of its own (its last line is JSON)."""
    done = run([sys.executable, "-m", module, *args], dict(os.environ), ROOT)
    return float(json.loads(done.output.splitlines()[-1])["seconds"])


def steps_alone(sim: HubSimulator, folder: Path) -> float:
    """The sync steps without Dagster (list, refresh, score, publish) in a process of their own."""
    return seconds_of("bench.steps", sim.url, str(folder))


def trees_alone(sim: HubSimulator, in_flight: int) -> float:
    """Every repo's tree through plain httpx, `in_flight` at a time, in a process of its own."""
    return seconds_of("bench.trees_alone", sim.url, str(in_flight))


def served(sim: HubSimulator) -> tuple[int, int, int, int]:
    """Requests answered by the Hub's API host since the log was cleared: all, listing pages, tree
    calls, and header reads (Range requests to a file's resolve URL; each also costs a CDN request)."""
    answered = [r for r in sim.requests if r.status is not None and r.host == "api"]
    listing = sum(r.path == LISTING_PATH for r in answered)
    trees = sum("/tree/" in r.path for r in answered)
    header_reads = sum("/resolve/" in r.path for r in answered)
    return len(answered), listing, trees, header_reads


def catalogued(env: dict[str, str]) -> int:
    store = CatalogueStore(Path(env["GGUFSYNC_STORAGE__CATALOGUE_PATH"]))
    with store.reader() as con:
        return int(con.sql("SELECT count(*) FROM current_models").fetchall()[0][0])


def median_seconds(argv: list[str], env: dict[str, str], cwd: Path, times: int = 3) -> float:
    return statistics.median(run(argv, env, cwd).seconds for _ in range(times))


def naive(sim: HubSimulator) -> float:
    """What most people write: list the GGUF repos, then ask for each one's files, one by one."""
    api = HfApi(endpoint=sim.url, token=False)
    started = time.perf_counter()
    for model in api.list_models(filter="gguf", full=True):
        api.model_info(model.id, files_metadata=True)
    return time.perf_counter() - started


def change_one_percent(sim: HubSimulator) -> None:
    for repo in sim.state.repos()[::100]:
        sim.edit(repo.id)


def measure(repos: int, folder: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"repos": repos}
    with simulator(repos) as sim:
        figures["steps_s"] = steps_alone(sim, folder / "steps")
        env = environment(sim, folder / "user")
        sim.clear_requests()
        full = run([str(GGUFSYNC), "sync", "--mode", "full"], env, folder / "user")
        requests, listing, trees, header_reads = served(sim)
        found = catalogued(env)
        figures |= {
            "full_s": full.seconds,
            "framework_ratio": full.seconds / figures["steps_s"],
            "repos_per_s": found / full.seconds,
            "requests": requests,
            "min_requests": listing + found + header_reads,
            "request_ratio": requests / (listing + found + header_reads),
            "tree_requests": trees,
            "header_reads": header_reads,
            "peak_rss_mb": full.peak_rss_mb,
        }
        change_one_percent(sim)
        sim.clear_requests()
        incremental = run([str(GGUFSYNC), "sync", "--mode", "incremental"], env, folder / "user")
        figures["incr_s"] = incremental.seconds
        figures["incr_requests"] = served(sim)[0]
        figures["help_s"] = median_seconds([str(GGUFSYNC), "--help"], env, folder / "user")
        figures["query_s"] = median_seconds(
            [str(GGUFSYNC), "query", "SELECT count(*) FROM models"], env, folder / "user"
        )
    with simulator(repos, latency=LATENCY) as slow:
        figures["naive_s"] = naive(slow)
        # Like for like: the naive script reads no GGUF header, so neither do these two syncs.
        env = environment(slow, folder / "slow") | {"GGUFSYNC_GGUF_HEADERS__READ": "false"}
        figures["trees_alone_s"] = trees_alone(
            slow, int(env["GGUFSYNC_RATE_LIMITING__MAX_CONCURRENT_REQUESTS"])
        )
        ours_full = run([str(GGUFSYNC), "sync", "--mode", "full"], env, folder / "slow").seconds
        change_one_percent(slow)
        ours_daily = run([str(GGUFSYNC), "sync", "--mode", "incremental"], env, folder / "slow").seconds
        figures |= {
            "ours_full_latency_s": ours_full,
            "ours_daily_latency_s": ours_daily,
            "naive_full_ratio": figures["naive_s"] / ours_full,
            "naive_daily_ratio": figures["naive_s"] / ours_daily,
            "naive_full_ceiling": figures["naive_s"] / figures["trees_alone_s"],
        }
    figures |= pacing(folder / "tight")
    figures |= {key: value for key, value in memory(repos, folder).items() if key != "repos"}
    figures["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def pacing(folder: Path) -> dict[str, Any]:
    """A full sync under a tight advertised quota: its 429s, and the share of the quota it used in the
    windows it filled (all but its last), counting windows as the simulator does (each starts at the
    first request after the last one ended)."""
    folder.mkdir()
    tight = HubSimulator(
        repos=TIGHT_REPOS,
        seed=5,
        now=datetime.now(UTC),
        api_quota=TIGHT_QUOTA,
        api_window=TIGHT_WINDOW,
        resolvers_quota=QUOTA,
    )
    with tight as sim:
        env = environment(sim, folder) | {"GGUFSYNC_GGUF_HEADERS__READ": "false"}
        sync = run([str(GGUFSYNC), "sync", "--mode", "full"], env, folder)
        answered = [r for r in sim.requests if r.host == "api" and r.status is not None]
    starts: list[float] = []
    counts: list[int] = []
    for moment in sorted(r.time.timestamp() for r in answered):
        if not starts or moment >= starts[-1] + TIGHT_WINDOW:
            starts.append(moment)
            counts.append(0)
        counts[-1] += 1
    filled = sum(counts[:-1])
    spanned = TIGHT_QUOTA * (starts[-1] - starts[0]) / TIGHT_WINDOW if len(starts) > 1 else 0.0
    return {
        "tight_s": sync.seconds,
        "tight_requests": len(answered),
        "tight_windows": len(starts),
        "tight_429s": sum(r.status == 429 for r in answered),
        "quota_use": filled / spanned if spanned else float("nan"),
    }


BENCH_KEYS = (
    "repos",
    "full_s",
    "steps_s",
    "framework_ratio",
    "repos_per_s",
    "requests",
    "min_requests",
    "header_reads",
    "request_ratio",
    "incr_s",
    "incr_requests",
    "peak_rss_mb",
    "rss_ratio",
    "help_s",
    "query_s",
    "naive_full_ratio",
    "naive_daily_ratio",
    "naive_full_ceiling",
    "tight_429s",
    "quota_use",
)


def shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def full_sync(repos: int, folder: Path, **variables: str) -> Process:
    """`ggufsync sync --mode full` of a simulated Hub of `repos` repos, on a new home."""
    folder.mkdir()
    with simulator(repos) as sim:
        return run([str(GGUFSYNC), "sync", "--mode", "full"], environment(sim, folder) | variables, folder)


def memory(repos: int, folder: Path) -> dict[str, Any]:
    """Peak memory of a full `ggufsync sync` at `repos` and at ten times as many, without header reads:
    they stream one header per request in flight whatever the Hub's size (at most gguf_headers.max_bytes
    each), while reading 10 x `repos` headers of a few MiB would take the benchmark most of an hour."""
    figures: dict[str, Any] = {"repos": repos}
    for size, name in ((repos, "small"), (10 * repos, "large")):
        sync = full_sync(size, folder / name, GGUFSYNC_GGUF_HEADERS__READ="false")
        figures |= {f"{name}_repos": size, f"{name}_s": sync.seconds, f"{name}_peak_rss_mb": sync.peak_rss_mb}
    figures["rss_ratio"] = figures["large_peak_rss_mb"] / figures["small_peak_rss_mb"]
    return figures


MEMORY_KEYS = ("small_repos", "small_peak_rss_mb", "large_repos", "large_peak_rss_mb", "rss_ratio")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=2000, help="size of the simulated Hub")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="instead: peak memory of a full sync at --repos and ten times as many (slow: try 20000)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ggufsync-bench-") as folder:
        if args.memory:
            figures, keys, kind = memory(args.repos, Path(folder)), MEMORY_KEYS, "memory"
        else:
            for part in ("steps", "user", "slow"):
                (Path(folder) / part).mkdir()
            figures, keys, kind = measure(args.repos, Path(folder)), BENCH_KEYS, "bench"
    for key, value in figures.items():
        print(f"{key:24} {shown(value)}")
    print(f"{kind.upper()} " + " ".join(f"{key}={shown(figures[key])}" for key in keys))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"{kind}-{args.repos}-{stamp}.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
