"""Every GGUF repo's file tree fetched with plain httpx, and nothing else: the floor of a full sync.

    .venv/bin/python -m bench.trees_alone HUB_URL IN_FLIGHT

Lists the Hub at HUB_URL (not timed), then asks for each repo's recursive tree, IN_FLIGHT at a time,
each through a client of one connection as the sync's lanes are, and parses the JSON answer. No
settings, pacing, retries, catalogue, Dagster or process start-up: no sync that asks for every tree
at that concurrency can take less. Prints one JSON line: the trees' wall time and how many.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def _repo_ids(http: httpx.AsyncClient, hub_url: str) -> list[str]:
    response = await http.get(f"{hub_url}/api/models", params={"filter": "gguf", "limit": 1000})
    ids = [model["id"] for model in response.raise_for_status().json()]
    while "next" in response.links:
        response = await http.get(response.links["next"]["url"])
        ids += [model["id"] for model in response.raise_for_status().json()]
    return ids


async def _trees(hub_url: str, in_flight: int) -> tuple[float, int]:
    async with httpx.AsyncClient(timeout=60) as http:
        waiting = await _repo_ids(http, hub_url)
    count = len(waiting)

    async def lane() -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)) as http:
            while waiting:
                repo_id = waiting.pop()
                url = f"{hub_url}/api/models/{repo_id}/tree/main"
                response = await http.get(url, params={"recursive": "true"})
                response.raise_for_status().json()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trees_alone", description=__doc__.split("\n\n")[0])
    parser.add_argument("hub_url")
    parser.add_argument("in_flight", type=int)
    args = parser.parse_args()
    seconds, trees = asyncio.run(_trees(args.hub_url, args.in_flight))
    print(json.dumps({"seconds": seconds, "trees": trees}))


if __name__ == "__main__":
    main()
