"""Asset checks: what a sync must get right before its snapshot is published.

Each check is evaluated by the step of the asset it checks, when the asset's work is done (see
defs/assets.py): as steps of their own, the five checks cost a sixth of an incremental sync in
Dagster's per-step bookkeeping and DuckDB connections. So a check runs whenever its asset does,
and never alone; read on its own, a check of what a run wrote would find no run to check anyway.
Blocking ERROR checks sit on the partitioned assets, upstream of gguf_catalogue: a failing one fails
its asset's step, and Dagster runs nothing downstream, so nothing is published. Checks read the
working catalogue the run wrote (the one on gguf_catalogue, what it published).
"""

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import dagster as dg
import duckdb

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.defs.partitions import window_of
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.steps import fail_run
from ggufsync_assets.gguf.names import file_type_labels
from ggufsync_assets.settings import Settings

MAX_REJECT_SHARE = 0.02
"""Rejected records above this share of a run's listed repos are worth a look (WARN)."""
FILE_TYPE_LABELS = file_type_labels()
NAMED = 10
"""How many repo ids a failing check names in its description (all are in the catalogue)."""


class Reads:
    """What a step's checks read, read-only (checks never write): what this run wrote in the working
    file, or once the run has published, the published file. One connection to each, opened at the
    first query and shared by all the step's checks, since each costs 20-50 ms to open."""

    def __init__(self, store: CatalogueStore) -> None:
        self._store = store
        self._opened = contextlib.ExitStack()
        self._connections: dict[bool, duckdb.DuckDBPyConnection] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._opened.close()

    def query(
        self, sql: str, params: list[Any] | dict[str, Any] | None = None, *, published: bool = False
    ) -> list[tuple[Any, ...]]:
        con = self._connections.get(published)
        if con is None:
            opened = self._store.reader() if published else self._store.working_reader()
            con = self._connections[published] = self._opened.enter_context(opened)
        return con.sql(sql, params=params or []).fetchall()


Evaluate = Callable[[dg.AssetExecutionContext, Reads], dg.AssetCheckResult]


@dataclass(frozen=True)
class Check:
    """A check's definition (its name, asset, whether it blocks, what it checks) and how to run it."""

    spec: dg.AssetCheckSpec
    evaluate: Evaluate


def _check(asset: str, evaluate: Evaluate, *, blocking: bool = False) -> Check:
    """A check named for its function and described by its docstring, as the UI shows it."""
    description = inspect.cleandoc(evaluate.__doc__ or "")
    spec = dg.AssetCheckSpec(evaluate.__name__, asset=asset, blocking=blocking, description=description)
    return Check(spec, evaluate)


def _blocking(name: str, *, passed: bool, description: str, metadata: dict[str, Any]) -> dg.AssetCheckResult:
    """An ERROR result; failing, it ends the sync like a failing step (see `evaluate`)."""
    return dg.AssetCheckResult(
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def evaluate(
    context: dg.AssetExecutionContext, sync: SyncResource, checks: list[Check]
) -> list[dg.AssetCheckResult]:
    """An asset's checks, once its step has written (and closed) what they read. A failing blocking
    check ends the run's sync as a failing step does (defs/steps.py: fail_run), once the checks'
    reads are closed: DuckDB opens a file with one mode at a time in a process."""
    with Reads(sync.store()) as reads:
        results = [check.evaluate(context, reads) for check in checks]
    failed = [
        f"blocking check {check.spec.name} failed: {result.description}"
        for check, result in zip(checks, results, strict=True)
        if check.spec.blocking and not result.passed
    ]
    if failed:
        fail_run(context, sync, "; ".join(failed))
    return results


def _repos(count: int) -> str:
    return f"{count} repo" if count == 1 else f"{count} repos"


def _named(repo_ids: list[str], total: int | None = None) -> str:
    """The first NAMED of `total` names (default: all of `repo_ids`)."""
    total = len(repo_ids) if total is None else total
    shown = ", ".join(repo_ids[:NAMED])
    return shown + (f" and {total - NAMED} more" if total > NAMED else "")


def file_types_match_names(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
    """Every header read states the quantization its file's name says (where the name says one that
    a header can state): a mismatch is a mislabelled upload, worth a look but no reason to stop.
    A header read to its tokenizer whose general.file_type comes after it (llama-quantize since 2025
    writes it last) states none there: such files are counted as not compared, not as agreeing."""
    [(compared, unstated, mismatched, shown)] = reads.query(
        """
        WITH named AS (
            SELECT f.repo_id || '/' || f.path AS file, f.quantization AS named, h.file_type_label AS stated
            FROM gguf_headers h JOIN model_files f USING (repo_id, path) JOIN models m USING (repo_id)
            WHERE m.removed_at IS NULL AND h.error IS NULL AND list_contains($labels, f.quantization)
        ), compared AS (FROM named WHERE stated IS NOT NULL),
        wrong AS (SELECT * FROM compared WHERE named <> stated)
        SELECT (SELECT count(*) FROM compared), (SELECT count(*) FROM named WHERE stated IS NULL),
               (SELECT count(*) FROM wrong),
               coalesce((SELECT list(file || ' (name ' || named || ', header ' || stated || ')' ORDER BY file)
                         FROM (FROM wrong ORDER BY file LIMIT $shown)), [])
        """,
        {"labels": sorted(FILE_TYPE_LABELS), "shown": NAMED},
    )
    description = f"file names whose quantization their header contradicts: {mismatched} of {compared}"
    return dg.AssetCheckResult(
        check_name="file_types_match_names",
        passed=not mismatched,
        severity=dg.AssetCheckSeverity.WARN,
        description=description
        + (f": {_named(shown, mismatched)}" if mismatched else "")
        + (f"; not compared, the file type being after the tokenizer: {unstated}" if unstated else ""),
        metadata={"files_compared": compared, "mismatched": mismatched, "file_type_not_read": unstated},
    )


def build_checks(settings: Settings) -> dict[str, list[Check]]:
    """Each asset's checks, by the asset's name."""
    minimum = settings.validation.min_completeness_score
    max_share = settings.validation.max_share_below_minimum

    def completeness_meets_minimum(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
        """The catalogue holds what the Hub offers: mean completeness at least
        validation.min_completeness_score, and no more than validation.max_share_below_minimum of
        the repos below it (a few repos losing most of their entry trip the gate as surely as many
        losing a little)."""
        [(mean, below, repos)] = reads.query(
            "SELECT avg(completeness_score), count(*) FILTER (WHERE completeness_score < ?), count(*) "
            "FROM models WHERE removed_at IS NULL",
            [minimum],
        )
        mean = mean if mean is not None else 1.0
        share = below / repos if repos else 0.0
        mean_ok, share_ok = mean >= minimum, share <= max_share
        description = (
            f"mean completeness {mean:.3f} {'>=' if mean_ok else '<'} validation.min_completeness_score "
            f"{minimum}; {below} of {repos} repos ({share:.1%}) below it, {'<=' if share_ok else '>'} "
            f"validation.max_share_below_minimum {max_share:.1%}"
        )
        reasons = reads.query(
            "SELECT gap, count(*) AS repos FROM (SELECT unnest(completeness_gaps) AS gap FROM models "
            "WHERE removed_at IS NULL AND completeness_score < ?) GROUP BY gap ORDER BY repos DESC, gap",
            [minimum],
        )
        worst = reads.query(
            "SELECT repo_id, completeness_score, completeness_gaps FROM models "
            "WHERE removed_at IS NULL AND completeness_score < ? ORDER BY completeness_score, repo_id LIMIT ?",
            [minimum, NAMED],
        )
        if reasons:
            description += "; why: " + ", ".join(f"{gap} ({_repos(count)})" for gap, count in reasons)
        if worst:
            description += "; worst: " + ", ".join(
                f"{repo_id} {score:.2f} ({', '.join(gaps)})" for repo_id, score, gaps in worst
            )
        return _blocking(
            "completeness_meets_minimum",
            passed=mean_ok and share_ok,
            description=description,
            metadata={
                "mean_completeness": mean,
                "minimum": minimum,
                "repos_below_minimum": below,
                "share_below_minimum": share,
                "max_share_below_minimum": max_share,
                "repos": repos,
                "reasons": dg.MetadataValue.json(dict(reasons)),
                "worst_repos": dg.MetadataValue.md(
                    "| repo | completeness | lost |\n|---|---|---|\n"
                    + "".join(f"| {r} | {score:.2f} | {', '.join(gaps)} |\n" for r, score, gaps in worst)
                ),
            },
        )

    def no_duplicate_keys(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
        """One row per repo (the Hub treats ids case-insensitively) and per file path in a repo."""
        [(repos, files, ids)] = reads.query(
            """
            WITH repos AS (SELECT lower(repo_id) AS key, list(repo_id ORDER BY repo_id) AS ids
                           FROM models WHERE removed_at IS NULL GROUP BY 1 HAVING count(*) > 1)
            SELECT (SELECT count(*) FROM repos),
                   (SELECT count(*) FROM (SELECT repo_id, path FROM model_files GROUP BY 1, 2 HAVING count(*) > 1)),
                   coalesce((SELECT list(array_to_string(ids, ' = ') ORDER BY key) FROM repos), [])
            """,
        )
        passed = repos == 0 and files == 0
        description = (
            "one row per repo id and per file path"
            if passed
            else f"repo ids present more than once, compared without case: {repos}"
            + (f" ({_named(ids)})" if ids else "")
            + f"; file paths listed more than once in their repo: {files}"
        )
        return _blocking(
            "no_duplicate_keys",
            passed=passed,
            description=description,
            metadata={"duplicate_repo_ids": repos, "duplicate_file_paths": files},
        )

    def rejects_below_bound(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
        """Records failing validation in this run stay below 2 % of the repos it listed."""
        [(rejects, listed)] = reads.query(
            "SELECT (SELECT count(*) FROM rejected_records WHERE run_id = ?), "
            "coalesce((SELECT repos_listed FROM sync_runs WHERE run_id = ?), 0)",
            [context.run.run_id, context.run.run_id],
        )
        bound = max(1, int(listed * MAX_REJECT_SHARE))
        passed = rejects <= bound
        return dg.AssetCheckResult(
            check_name="rejects_below_bound",
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"records rejected in this run: {rejects}, {'within' if passed else 'above'} the bound of "
                f"{bound} ({MAX_REJECT_SHARE:.0%} of the repos listed: {listed}); rejected_records says why"
            ),
            metadata={"rejected_records": rejects, "bound": bound, "repos_listed": listed},
        )

    def listed_equals_catalogued(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
        """Every present repo in the run's window was seen by this run, and nothing else is present there."""
        runs = reads.query(
            "SELECT repos_listed, started_at, partition_start, partition_end FROM sync_runs WHERE run_id = ?",
            [context.run.run_id],
            published=True,
        )
        if not runs:
            return dg.AssetCheckResult(
                check_name="listed_equals_catalogued",
                passed=True,
                metadata={"note": "no listing in this run"},
            )
        listed, started, first, last = runs[0]
        # The lastModified span the run listed (all of it for a complete pass): a present repo in it
        # that this run did not see is gone from the Hub, or no longer listed as GGUF.
        window = window_of(first, last) if first and last else None
        [(seen, present, missing)] = reads.query(
            """
            SELECT count(*) FILTER (WHERE last_seen_at >= $started),
                   count(*) FILTER (WHERE in_window),
                   coalesce(list(repo_id ORDER BY repo_id) FILTER (WHERE in_window AND last_seen_at < $started), [])
            FROM (SELECT repo_id, last_seen_at,
                         ($start IS NULL OR last_modified >= $start) AND ($end IS NULL OR last_modified < $end)
                             AS in_window
                  FROM models WHERE removed_at IS NULL)
            """,
            {"started": started, "start": window and window.start, "end": window and window.end},
            published=True,
        )
        if window is None:  # a run row without its range: only what this run saw can be compared
            present, missing = seen, []
        passed = listed == seen and not missing
        description = (
            f"repos listed: {listed}, catalogued by this run: {seen}, present in its window: {present}"
        )
        if missing:
            description += f"; present in the window but not listed (gone from the Hub?): {_named(missing)}"
        return dg.AssetCheckResult(
            check_name="listed_equals_catalogued",
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata={
                "repos_listed": listed,
                "repos_catalogued_this_run": seen,
                "repos_present_in_window": present,
                "present_not_listed": len(missing),
            },
        )

    checks = {
        "gguf_model_listing": [
            _check("gguf_model_listing", no_duplicate_keys, blocking=True),
            _check("gguf_model_listing", rejects_below_bound),
        ],
        "gguf_model_files": [_check("gguf_model_files", file_types_match_names)],
        "gguf_model_completeness": [
            _check("gguf_model_completeness", completeness_meets_minimum, blocking=True)
        ],
        "gguf_catalogue": [_check("gguf_catalogue", listed_equals_catalogued)],
    }
    if settings.validation.enable_file_verification:

        def files_verified(context: dg.AssetExecutionContext, reads: Reads) -> dg.AssetCheckResult:
            """The model file read for each repo refreshed in this run has a readable GGUF header of a
            supported version declaring the split count its name does, and every file has a size."""
            [(checked, failed, sizeless, broken)] = reads.query(
                """
                SELECT count(header_ok), count(*) FILTER (WHERE header_ok = false),
                       count(*) FILTER (WHERE coalesce(size_bytes, 0) <= 0),
                       coalesce(list(f.repo_id || '/' || f.path ORDER BY f.repo_id, f.path)
                                FILTER (WHERE header_ok = false OR coalesce(size_bytes, 0) <= 0), [])
                FROM model_files f JOIN models m USING (repo_id)
                WHERE m.removed_at IS NULL AND f.synced_at >= (SELECT started_at FROM sync_runs WHERE run_id = ?)
                """,
                [context.run.run_id],
            )
            passed = failed == 0 and sizeless == 0
            description = (
                f"model files failing verification (no readable GGUF header of a supported version, a split "
                f"count other than the name's, or a .gguf file of their repo too small to be one): {failed} of "
                f"{checked}; files refreshed in this run without a size: {sizeless}"
            )
            # Why their headers did not read (a refused host, a pointer file), where they are kept.
            reasons = reads.query(
                """
                SELECT h.error, count(*) AS files
                FROM model_files f JOIN gguf_headers h USING (repo_id, path)
                WHERE f.header_ok = false AND h.error IS NOT NULL
                  AND f.synced_at >= (SELECT started_at FROM sync_runs WHERE run_id = ?)
                GROUP BY h.error ORDER BY files DESC, h.error LIMIT 3
                """,
                [context.run.run_id],
            )
            why = "; ".join(f"{files} x {error}" for error, files in reasons)
            return _blocking(
                "files_verified",
                passed=passed,
                description=description
                + (f": {_named(broken)}" if broken else "")
                + (f"; header reads: {why}" if why else ""),
                metadata={"files_checked": checked, "bad_magic": failed, "without_size": sizeless},
            )

        checks["gguf_model_files"].append(_check("gguf_model_files", files_verified, blocking=True))
    return checks
