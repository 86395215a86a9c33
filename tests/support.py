"""Helpers for the tests: the built warehouse and how the scheduled job is run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.defs.quality.checks import failed_on_a_gate
from pipelines.lib.simulated import SimulatedSources


@dataclass
class BuiltWarehouse:
    data_dir: Path
    warehouse: Path
    sim: SimulatedSources
    result: object
    dbt_folders_before: frozenset[str] = frozenset()
    """The folders under dbt's target/ before the build (builds must leave none behind)."""

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def firm(self, sql: str) -> list[tuple]:
        return self.sim.firm.execute(sql).fetchall()


def run_refresh_job(period: str | None = None) -> object:
    """The month-end close job (every asset and the report of ``period``, default the month
    before the as-of date), executed in-process on an ephemeral Dagster instance."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs
    from pipelines.defs.reports.month_end import last_closed_month
    from pipelines.settings import Settings

    period = period or last_closed_month(Settings.from_env().as_of)
    job = defs.resolve_job_def("month_end_close")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            instance=instance, raise_on_error=False, partition_key=f"{period}-01"
        )


def failed_steps(result: object, *, but_gates: bool = True) -> list[str]:
    """Steps of ``result`` that failed; with ``but_gates``, leaving out the blocking gates that
    failed on planted problems (their failure is the gates doing their job)."""
    return [
        event.step_key
        for event in result.get_step_failure_events()
        if not (but_gates and failed_on_a_gate(event))
    ]


def sync_sources() -> object:
    """Materialize only the extraction assets (all three systems), as a scheduled sync would."""
    from dagster import DagsterInstance, materialize
    from dagster_dlt import DagsterDltResource

    from pipelines.defs.ingest.assets import ingest_assets
    from pipelines.defs.ingest.checks import quarantine_checks

    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [*ingest_assets, *quarantine_checks],
            resources={"dlt": DagsterDltResource()},
            instance=instance,
            raise_on_error=False,
        )
    return result


def raw_snapshot(warehouse: Path, live_only: bool = False) -> dict[str, list[tuple]]:
    """Every raw table's rows, without dlt's load columns, in a stable order.

    ``live_only`` leaves out rows the source deleted and the ``_deleted_at`` flag itself,
    which is what a full refresh of the source would hold.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            """select schema_name, table_name from duckdb_tables()
               where schema_name like 'raw_%' and table_name not like '\\_dlt%' escape '\\'
                 and table_name <> 'quarantine' order by 1, 2"""
        ).fetchall()
        snapshot = {}
        for schema, table in tables:
            if live_only and table == "deleted_records":
                continue
            columns = (
                "* exclude (_dlt_load_id, _deleted_at)" if live_only else "* exclude (_dlt_load_id)"
            )
            where = "where _deleted_at is null" if live_only else ""
            rows = con.execute(
                f'select {columns} from {schema}."{table}" {where} order by all'
            ).fetchall()
            snapshot[f"{schema}.{table}"] = rows
        return snapshot
    finally:
        con.close()


def dbt_folders() -> frozenset[str]:
    """The folders under the dbt project's target/ (dagster-dbt gives each command one)."""
    from pipelines.defs.transform.dbt import dbt_project

    return frozenset(p.name for p in dbt_project.manifest_path.parent.iterdir() if p.is_dir())
