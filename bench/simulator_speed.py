"""How fast the Hub simulator builds a large Hub and serves a full listing page on this machine.

    .venv/bin/python bench/simulator_speed.py --repos 10000

Prints the build time of the synthetic Hub and the time to serve a 1,000-record page with the
listing's expand properties (median of several requests). Loopback only; bounded by --repos.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import httpx

from ggufsync_assets.hubsim import HubSimulator, HubState

EXPAND = ["gguf", "siblings", "lastModified", "sha", "tags", "cardData"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=5, help="page requests to time")
    args = parser.parse_args()
    started = time.perf_counter()
    HubState(args.repos, seed=3, now=datetime(2026, 11, 1, tzinfo=UTC))
    build = time.perf_counter() - started
    with HubSimulator(repos=args.repos, seed=3, api_quota=10_000_000) as hub, httpx.Client() as http:
        params = {"limit": 1000, "expand": EXPAND}
        http.get(f"{hub.url}/api/models", params=params)  # warm-up
        timings = []
        for _ in range(args.pages):
            started = time.perf_counter()
            http.get(f"{hub.url}/api/models", params=params).raise_for_status()
            timings.append(time.perf_counter() - started)
    print(f"simulated repos          {args.repos}")
    print(f"build                    {build:.2f} s")
    print(f"1,000-record page        {statistics.median(timings) * 1000:.0f} ms median of {args.pages}")


if __name__ == "__main__":
    main()
