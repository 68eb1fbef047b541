"""Asset checks: what a sync must get right before its snapshot is published.

Blocking ERROR checks sit on the partitioned assets, upstream of gguf_catalogue, so a failing one
stops the run before anything is published. Checks read the working catalogue the run wrote.
"""

from typing import Any

import dagster as dg

from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.steps import fail_run
from ggufsync_assets.settings import Settings

MAX_REJECT_SHARE = 0.02
"""Rejected records above this share of a run's listed repos are worth a look (WARN)."""


def _query(
    sync: SyncResource, sql: str, params: list[Any] | None = None, *, published: bool = False
) -> list[tuple[Any, ...]]:
    """Read what this run wrote, read-only (checks never write): the working file, or once the run
    has published, the published file."""
    store = sync.store()
    with store.reader() if published else store.working_reader() as con:
        return con.sql(sql, params=params or []).fetchall()


def _blocking(
    context: dg.AssetCheckExecutionContext, sync: SyncResource, passed: bool, metadata: dict[str, Any]
) -> dg.AssetCheckResult:
    """An ERROR result; failing, it ends the sync like a failing step (see defs/steps.py: fail_run)."""
    if not passed:
        fail_run(context, sync, f"blocking check {context.check_specs[0].name} failed")
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


def build_checks(
    settings: Settings, assets: dict[str, dg.AssetsDefinition]
) -> list[dg.AssetChecksDefinition]:
    minimum = settings.validation.min_completeness_score

    @dg.asset_check(asset=assets["gguf_model_completeness"], blocking=True)
    def completeness_meets_minimum(
        context: dg.AssetCheckExecutionContext, sync: SyncResource
    ) -> dg.AssetCheckResult:
        """Mean completeness of the repos in the catalogue is at least validation.min_completeness_score."""
        [(mean, below, repos)] = _query(
            sync,
            "SELECT avg(completeness_score), count(*) FILTER (WHERE completeness_score < ?), count(*) "
            "FROM models WHERE removed_at IS NULL",
            [minimum],
        )
        passed = repos == 0 or (mean is not None and mean >= minimum)
        return _blocking(
            context,
            sync,
            passed,
            {"mean_completeness": mean, "minimum": minimum, "repos_below_minimum": below, "repos": repos},
        )

    @dg.asset_check(asset=assets["gguf_model_listing"], blocking=True)
    def no_duplicate_keys(context: dg.AssetCheckExecutionContext, sync: SyncResource) -> dg.AssetCheckResult:
        """One row per repo (the Hub treats ids case-insensitively) and per file path in a repo."""
        [(repos, files)] = _query(
            sync,
            """
            SELECT (SELECT count(*) FROM (SELECT lower(repo_id) FROM models WHERE removed_at IS NULL
                                          GROUP BY 1 HAVING count(*) > 1)),
                   (SELECT count(*) FROM (SELECT repo_id, path FROM model_files GROUP BY 1, 2 HAVING count(*) > 1))
            """,
        )
        return _blocking(
            context,
            sync,
            repos == 0 and files == 0,
            {"duplicate_repo_ids": repos, "duplicate_file_paths": files},
        )

    @dg.asset_check(asset=assets["gguf_model_listing"])
    def rejects_below_bound(
        context: dg.AssetCheckExecutionContext, sync: SyncResource
    ) -> dg.AssetCheckResult:
        """Records failing validation in this run stay below 2 % of the repos it listed."""
        [(rejects, listed)] = _query(
            sync,
            "SELECT (SELECT count(*) FROM rejected_records WHERE run_id = ?), "
            "coalesce((SELECT repos_listed FROM sync_runs WHERE run_id = ?), 0)",
            [context.run.run_id, context.run.run_id],
        )
        bound = max(1, int(listed * MAX_REJECT_SHARE))
        return dg.AssetCheckResult(
            passed=rejects <= bound,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rejected_records": rejects, "bound": bound, "repos_listed": listed},
        )

    @dg.asset_check(asset=assets["gguf_catalogue"])
    def listed_equals_catalogued(
        context: dg.AssetCheckExecutionContext, sync: SyncResource
    ) -> dg.AssetCheckResult:
        """Every present repo in the run's window was seen by this run, and nothing else is present there."""
        rows = _query(
            sync,
            """
            SELECT r.repos_listed,
                   (SELECT count(*) FROM models m WHERE m.removed_at IS NULL AND m.last_seen_at >= r.started_at),
                   r.complete_pass,
                   (SELECT count(*) FROM models m WHERE m.removed_at IS NULL)
            FROM sync_runs r WHERE r.run_id = ?
            """,
            [context.run.run_id],
            published=True,
        )
        if not rows:
            return dg.AssetCheckResult(passed=True, metadata={"note": "no listing in this run"})
        listed, seen, complete, present = rows[0]
        passed = listed == seen and (not complete or present == listed)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"repos_listed": listed, "repos_catalogued_this_run": seen, "repos_present": present},
        )

    checks = [completeness_meets_minimum, no_duplicate_keys, rejects_below_bound, listed_equals_catalogued]
    if settings.validation.enable_file_verification:

        @dg.asset_check(asset=assets["gguf_model_files"], blocking=True)
        def files_verified(context: dg.AssetCheckExecutionContext, sync: SyncResource) -> dg.AssetCheckResult:
            """Files refreshed in this run start with the GGUF magic bytes and have sizes."""
            [(checked, failed, sizeless)] = _query(
                sync,
                """
                SELECT count(header_ok), count(*) FILTER (WHERE header_ok = false),
                       count(*) FILTER (WHERE coalesce(size_bytes, 0) <= 0)
                FROM model_files f JOIN models m USING (repo_id)
                WHERE m.removed_at IS NULL AND f.synced_at >= (SELECT started_at FROM sync_runs WHERE run_id = ?)
                """,
                [context.run.run_id],
            )
            return _blocking(
                context,
                sync,
                failed == 0 and sizeless == 0,
                {"files_checked": checked, "bad_magic": failed, "without_size": sizeless},
            )

        checks.append(files_verified)
    return checks
