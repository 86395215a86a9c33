"""Harvest API v2: page-numbered resources, incremental on ``updated_since``.

Harvest leaves no trace of a delete; deleted records are found by reconciling ids
(see the extraction docs). The uninvoiced report is Harvest's own control total.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.common.typing import TSecretStrValue
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.exceptions import PipelineNeverRan

from pipelines.defs.ingest.psa.objects import (
    CURSOR,
    DELETIONS_TABLE,
    OPTIONAL,
    PER_PAGE,
    REPORT_DAYS,
    RESOURCES,
    UNINVOICED_REPORT,
)
from pipelines.lib.extract import (
    Endpoint,
    ExtractStats,
    NextLinkPaginator,
    SourceError,
    arrow_pages,
    make_client,
    modified_since,
    optional,
    paginate,
    setting_name,
)


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)


def headers(access_token: str | None, account_id: str) -> dict[str, str]:
    if not access_token:
        raise SourceError("psa", f"{setting_name('psa', 'access_token')} is not set")
    return {
        "Authorization": f"Bearer {access_token}",
        "Harvest-Account-Id": str(account_id),
        "User-Agent": "q2c (finance-ops)",
    }


def _pages() -> NextLinkPaginator:
    return NextLinkPaginator(next_url_path="links.next")


def list_endpoint(name: str, since: Any | None = None) -> Endpoint:
    """Every record of a Harvest list resource, or those updated since ``since``."""
    params: dict[str, Any] = {"per_page": PER_PAGE}
    if since is not None:
        params["updated_since"] = _iso(since)
    return Endpoint(f"/v2/{name}", _pages, name, params=params)


def uninvoiced_endpoint(to: date, days: int = REPORT_DAYS) -> Endpoint:
    """Harvest's uninvoiced report of the ``days`` up to ``to`` (the as-of date): Harvest
    refuses a timeframe longer than a year."""
    params = {
        "from": (to - timedelta(days=days - 1)).strftime("%Y%m%d"),
        "to": to.strftime("%Y%m%d"),
        "per_page": PER_PAGE,
    }
    return Endpoint("/v2/reports/uninvoiced", _pages, "results", params=params)


@dlt.source(name="psa", max_table_nesting=0)
def psa(
    base_url: str = dlt.config.value,
    account_id: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    lookback_seconds: int = 300,
    report_days: int = REPORT_DAYS,
    reconcile_every_hours: float = 24,
    as_of: date | None = None,
    stats: Any = None,
) -> Any:
    """Clients, users, tasks, projects, time entries, expenses and the uninvoiced report up
    to ``as_of`` (the run's as-of date, given by the extract asset)."""
    run_stats: ExtractStats = stats if stats is not None else ExtractStats()

    def client() -> Any:
        return make_client("psa", base_url, headers(access_token, account_id), run_stats)

    def make_resource(name: str, contract: Any) -> Any:
        @dlt.resource(name=name, primary_key=contract.primary_key, write_disposition="merge")
        def read_resource(
            updated: dlt.sources.incremental[Any] = modified_since(CURSOR, lookback_seconds),
        ) -> Iterator[Any]:
            pages = paginate(client(), list_endpoint(name, updated.start_value), name)
            if name in OPTIONAL:
                pages = optional(pages, name, run_stats)
            yield from arrow_pages(pages, contract, "psa", run_stats)

        return read_resource

    @dlt.resource(name="uninvoiced_report", write_disposition="replace")
    def uninvoiced_report() -> Iterator[Any]:
        if as_of is None:
            raise ValueError("the Harvest source needs the run's as-of date for its report")
        if not 1 <= report_days <= REPORT_DAYS:
            raise SourceError(
                "psa", f"{setting_name('psa', 'report_days')}={report_days}: use 1 to {REPORT_DAYS}"
            )
        pages = paginate(client(), uninvoiced_endpoint(as_of, report_days), "uninvoiced_report")
        pages = optional(pages, "uninvoiced_report", run_stats)
        yield from arrow_pages(pages, UNINVOICED_REPORT, "psa", run_stats)

    @dlt.resource(name=DELETIONS_TABLE, primary_key=("resource", "id"), write_disposition="merge")
    def deleted_records() -> Iterator[Any]:
        """Harvest deletes leave no trace: ids we hold that Harvest no longer lists are deletes.

        Every ``reconcile_every_hours`` the ids of each resource are listed in full and
        compared with the landed ones; the missing are recorded here and flagged downstream.
        """
        state = dlt.current.resource_state()
        now = datetime.now(UTC)
        last = state.get("reconciled_at")
        if last and now - datetime.fromisoformat(last) < timedelta(hours=reconcile_every_hours):
            return
        held = _landed_ids()
        rows = []
        for name in RESOURCES:
            if not held.get(name):
                continue
            listed: set[int] = set()
            for page in paginate(client(), list_endpoint(name), f"{name} (id reconcile)"):
                listed.update(r["id"] for r in page if r.get("id") is not None)
            known = held.get(f"{DELETIONS_TABLE}:{name}", set())
            rows += [
                {"resource": name, "id": i, "detected_at": now}
                for i in sorted(held[name] - listed - known)
            ]
        state["reconciled_at"] = now.isoformat()
        if rows:
            yield rows

    return [
        *(make_resource(n, c) for n, c in RESOURCES.items()),
        uninvoiced_report,
        deleted_records,
    ]


def _landed_ids() -> dict[str, set[int]]:
    """Ids already landed, per resource, and those already known deleted under
    ``deleted_records:<resource>`` (empty on the first sync)."""
    pipeline = dlt.current.pipeline()
    held: dict[str, set[int]] = {}
    try:
        with pipeline.sql_client() as sql:
            for name in RESOURCES:
                try:
                    rows = sql.execute_sql(f"select id from {sql.make_qualified_table_name(name)}")
                except DatabaseUndefinedRelation:
                    continue
                held[name] = {r[0] for r in rows or []}
            try:
                found = sql.execute_sql(
                    f"select resource, id from {sql.make_qualified_table_name(DELETIONS_TABLE)}"
                )
            except DatabaseUndefinedRelation:
                found = []
            for resource, id_ in found or []:
                held.setdefault(f"{DELETIONS_TABLE}:{resource}", set()).add(id_)
    except (DatabaseUndefinedRelation, PipelineNeverRan, DestinationUndefinedEntity):
        return {}
    return held
