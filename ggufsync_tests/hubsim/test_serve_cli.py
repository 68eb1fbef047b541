"""`ggufsync hub serve` as a user runs it: a process that prints its URL, serves, and stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from ggufsync_assets.cli.main import main


def _serve(*flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ggufsync_assets.cli.main", "hub", "serve", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=30)


@pytest.fixture
def serve() -> Iterator[subprocess.Popen[str]]:
    process = _serve("--repos", "50", "--seed", "3", "--quota", "40", "--window", "60")
    try:
        yield process
    finally:
        _stop(process)


def test_serve_prints_its_url_first_and_serves_the_repos(serve: subprocess.Popen[str]) -> None:
    url = serve.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:")
    response = httpx.get(f"{url}/api/models", timeout=30)
    assert response.status_code == 200
    assert len(response.json()) == 50
    assert response.headers["RateLimit-Policy"] == '"fixed window";"api";q=40;w=60'


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_zero_when_signalled(serve: subprocess.Popen[str], stop: signal.Signals) -> None:
    url = serve.stdout.readline().strip()
    assert httpx.get(f"{url}/api/models", params={"limit": 1}, timeout=30).status_code == 200
    serve.send_signal(stop)
    assert serve.wait(timeout=30) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/models", timeout=30)


def test_serve_rejects_a_fault_rate_outside_zero_to_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["hub", "serve", "--fault-rate", "1.5"])
    assert exited.value.code == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_serve_breaks_the_share_of_trees_asked_for() -> None:
    process = _serve("--repos", "20", "--broken-trees", "1")
    try:
        url = process.stdout.readline().strip()
        repo_id = httpx.get(f"{url}/api/models", params={"limit": 1}, timeout=30).json()[0]["id"]
        assert httpx.get(f"{url}/api/models/{repo_id}", timeout=30).status_code == 200
        assert httpx.get(f"{url}/api/models/{repo_id}/tree/main", timeout=30).status_code == 500
    finally:
        _stop(process)


def test_serve_rejects_a_broken_tree_share_outside_zero_to_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["hub", "serve", "--broken-trees", "-0.1"])
    assert exited.value.code == 2
    assert "between 0 and 1" in capsys.readouterr().err
