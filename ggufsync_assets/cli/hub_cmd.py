"""`ggufsync hub serve`: run the Hub simulator in the foreground, for demos and manual testing."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime
from types import FrameType
from urllib.parse import urlsplit

from ggufsync_assets.cli.common import EXIT_OK, CliError
from ggufsync_assets.hubsim import HubSimulator


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from exc


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def configure(hub: argparse.ArgumentParser) -> None:
    verbs = hub.add_subparsers(dest="hub_command", required=True, parser_class=type(hub))
    serve = verbs.add_parser(
        "serve",
        help="serve a synthetic GGUF catalogue on loopback until interrupted",
        description="Prints the base URL as the first line of stdout, then serves until SIGINT or "
        "SIGTERM. Point HF_ENDPOINT (or HfApi(endpoint=...)) at that URL.",
    )
    serve.add_argument("--port", type=int, default=0, help="API port on 127.0.0.1 (0: any free port)")
    serve.add_argument("--repos", type=int, default=1000, help="number of synthetic repos")
    serve.add_argument("--seed", type=int, default=0, help="catalogue seed")
    serve.add_argument("--now", type=_timestamp, help="catalogue 'now' (ISO 8601), for reproducibility")
    serve.add_argument("--quota", type=int, default=500, help="API requests per window and client")
    serve.add_argument(
        "--resolver-quota", type=int, default=3000, help="file (resolve) requests per window and client"
    )
    serve.add_argument("--window", type=float, default=300.0, help="rate-limit window in seconds")
    serve.add_argument(
        "--fault-rate",
        type=_fraction,
        default=0.0,
        help="share of API requests that get a random fault (0..1)",
    )
    serve.add_argument(
        "--broken-trees",
        type=_fraction,
        default=0.0,
        metavar="SHARE",
        help="share of repos whose file tree answers 500 on every request, for good (0..1)",
    )
    serve.add_argument("--page-size", type=int, default=1000, help="default /api/models page size")
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    if args.repos < 0 or args.quota < 1 or args.resolver_quota < 1 or args.window <= 0:
        raise CliError("--repos must be >= 0, --quota and --resolver-quota >= 1 and --window > 0")
    simulator = HubSimulator(
        repos=args.repos,
        seed=args.seed,
        now=args.now,
        port=args.port,
        api_quota=args.quota,
        api_window=args.window,
        resolvers_quota=args.resolver_quota,
        resolvers_window=args.window,
        fault_rate=args.fault_rate,
        broken_tree_share=args.broken_trees,
        page_size=args.page_size,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            simulator.start()
        except OSError as exc:
            raise CliError(f"cannot bind the simulator: {exc}") from exc
        print(simulator.url, flush=True)
        print(
            f"hub simulator: {len(simulator.state)} repos "
            f"({len(simulator.state.broken_trees())} with a broken tree), CDN at {simulator.cdn_url}\n"
            f"sync from it: {sync_command(simulator.url, simulator.cdn_url)}",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    finally:
        simulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def sync_command(url: str, cdn_url: str) -> str:
    """A sync of the simulator with the shipped config: its CDN allowed (or no header could be
    read), and rates that leave the pace to the simulator's own quota, as the Hub's would."""
    cdn = json.dumps([urlsplit(cdn_url).hostname])
    return (
        f"HF_ENDPOINT={url} GGUFSYNC_SECURITY__ALLOWED_DOMAINS='{cdn}' ggufsync sync "
        "--set rate_limiting.requests_per_second=50 --set rate_limiting.requests_per_hour=100000"
    )
