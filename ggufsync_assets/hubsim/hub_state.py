"""What the simulated Hub holds right now: the ground truth tests compare a sync against.

Repos are immutable snapshots; mutations (`edit`, `add`, `delete`) swap in a new snapshot under a lock,
so readers never see a half-applied change, and old commits stay readable by their sha like on the
real Hub.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from ggufsync_assets.hubsim.files import HubFile
from ggufsync_assets.hubsim.generator import Case, RepoGenerator, edited_files
from ggufsync_assets.hubsim.realism import Realism
from ggufsync_assets.hubsim.repos import Repo, to_millis


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building creates ~10 objects per file and nothing cyclic; pausing the cyclic collector
    meanwhile makes building thousands of repos about a third faster."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class HubView:
    """All current repos at one moment, with lazily built sort orders for listings."""

    def __init__(self, repos: Iterable[Repo]) -> None:
        self.repos: tuple[Repo, ...] = tuple(repos)
        self.by_id: dict[str, Repo] = {repo.id: repo for repo in self.repos}
        self.orders: dict[str, Any] = {}


class HubState:
    """Every repo of the simulated Hub, and the mutations tests apply between syncs.

    `repos`, `seed`, `now` and `realism` (how messy repos are; realistic by default) fix the generated
    repos. `now` also anchors the simulated clock: generated dates lie before it, and mutations are
    stamped with `now` plus the real time elapsed since the repos were built (`clock()`), unless given
    `at`. `broken_tree_share` of the generated repos, picked by the seed, have a file tree the Hub
    never manages to list (`broken_trees()`).
    """

    def __init__(
        self,
        repos: int = 200,
        seed: int = 0,
        now: datetime | None = None,
        *,
        realism: Realism | None = None,
        broken_tree_share: float = 0.0,
    ) -> None:
        if not 0.0 <= broken_tree_share <= 1.0:
            raise ValueError("broken_tree_share must be between 0 and 1")
        self.seed = seed
        self.epoch = to_millis(_as_utc(now) if now else datetime.now(UTC).replace(microsecond=0))
        self._started = time.monotonic()
        self._lock = threading.RLock()
        self._generator = RepoGenerator(seed, self.epoch, repos, realism)
        forced = self._generator.forced_cases(repos)
        built = []
        with _collector_paused():
            for index in range(repos):
                built.append(self._generator.repo(index, forced.get(index)))
        self._next_index = repos
        self._view = HubView(built)
        self._edge_cases = {built[index].id: case for index, (case, _, _) in forced.items()}
        broken = random.Random(f"{seed}:broken-trees").sample(  # noqa: S311 - reproducible
            [repo.id for repo in built], round(broken_tree_share * repos)
        )
        self._broken_trees = set(broken)
        self._history: dict[str, dict[str, Repo]] = {}
        self._edits: dict[str, int] = {}
        self._blobs: dict[str, HubFile] | None = None

    def edge_cases(self) -> dict[str, Case]:
        """The current repos pinned to an edge case, and which: these exist whatever `realism` says."""
        with self._lock:
            return dict(self._edge_cases)

    def broken_trees(self) -> frozenset[str]:
        """The current repos whose file tree answers 500 on every request, for good."""
        with self._lock:
            return frozenset(self._broken_trees)

    def has_broken_tree(self, repo_id: str) -> bool:
        return repo_id in self._broken_trees

    def clock(self) -> datetime:
        """The simulated current time."""
        return to_millis(self.epoch + timedelta(seconds=time.monotonic() - self._started))

    def view(self) -> HubView:
        return self._view

    def repos(self) -> list[Repo]:
        """Every current repo, in creation order."""
        return list(self._view.repos)

    def get(self, repo_id: str) -> Repo | None:
        return self._view.by_id.get(repo_id)

    def __len__(self) -> int:
        return len(self._view.repos)

    def __iter__(self) -> Iterator[Repo]:
        return iter(self._view.repos)

    def __contains__(self, repo_id: object) -> bool:
        return repo_id in self._view.by_id

    def at_revision(self, repo_id: str, revision: str) -> Repo | None:
        """The repo as of `revision` (`main`, its current sha, or an older sha), if that exists."""
        repo = self._view.by_id.get(repo_id)
        if repo is None:
            return None
        if revision in ("main", "refs/heads/main", repo.sha):
            return repo
        return self._history.get(repo_id, {}).get(revision)

    def blob(self, sha256: str) -> HubFile | None:
        """An LFS object by its sha256, from any repo or commit (the CDN never forgets a blob)."""
        with self._lock:
            if self._blobs is None:
                self._blobs = {}
                snapshots = itertools.chain(self._view.repos, *(h.values() for h in self._history.values()))
                for repo in snapshots:
                    self._index_blobs(repo)
            return self._blobs.get(sha256)

    def _index_blobs(self, repo: Repo) -> None:
        if self._blobs is not None:
            self._blobs.update((f.lfs_sha256, f) for f in repo.files if f.lfs_sha256)

    def _publish(self, repos: Iterable[Repo]) -> None:
        self._view = HubView(repos)

    def edit(self, repo_id: str, *, at: datetime | None = None, **changes: Any) -> Repo:
        """Commit to a repo: new sha and lastModified; by default adds or removes a quant and
        rewrites the README, or applies `changes` (any `Repo` field, e.g. `files=` or `gated=`)."""
        with self._lock:
            old = self._view.by_id.get(repo_id)
            if old is None:
                raise KeyError(repo_id)
            count = self._edits[repo_id] = self._edits.get(repo_id, 0) + 1
            rng = random.Random(f"{self.seed}:edit:{repo_id}:{count}")  # noqa: S311 - reproducible
            moment = to_millis(_as_utc(at)) if at else self.clock()
            files = changes.pop("files", None)
            if files is None:
                files = edited_files(old, rng, f"{self.seed}:{repo_id}:edit{count}")
            fields = {"sha": f"{rng.getrandbits(160):040x}", "last_modified": moment, **changes}
            fields["files"] = tuple(sorted(files, key=lambda f: f.path))
            new = dataclasses.replace(old, **fields)
            self._history.setdefault(repo_id, {})[old.sha] = old
            self._index_blobs(new)
            self._publish(new if repo.id == repo_id else repo for repo in self._view.repos)
            return new

    def add(self, repo_id: str | None = None, *, at: datetime | None = None, **fields: Any) -> Repo:
        """Create a repo (generated like the others, created now), optionally overriding any field."""
        with self._lock:
            if repo_id is not None and repo_id in self._view.by_id:
                raise ValueError(f"repo {repo_id} already exists")
            moment = to_millis(_as_utc(at)) if at else self.clock()
            repo = self._generator.repo(self._next_index, at=moment)
            self._next_index += 1
            if repo_id is not None:
                fields["id"] = repo_id
                self._generator.taken.add(repo_id.lower())
            if "files" in fields:
                fields["files"] = tuple(sorted(fields["files"], key=lambda f: f.path))
            repo = dataclasses.replace(repo, **fields)
            self._index_blobs(repo)
            self._publish([*self._view.repos, repo])
            return repo

    def delete(self, repo_id: str) -> Repo:
        """Remove a repo; afterwards every route answers RepoNotFound for it."""
        with self._lock:
            repo = self._view.by_id.get(repo_id)
            if repo is None:
                raise KeyError(repo_id)
            self._history.pop(repo_id, None)
            self._broken_trees.discard(repo_id)
            self._edge_cases.pop(repo_id, None)
            self._publish(r for r in self._view.repos if r.id != repo_id)
            return repo
