"""Helpers for the tests: the built warehouse and how the scheduled job is run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.defs.quality.checks import failed_on_a_gate
from pipelines.settings import Settings
from simulator.harness import SimulatedSources


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


def current_settings() -> Settings:
    """The settings a test's environment gives (its data folder; the simulated firm's clock,
    which ``simulated_sources`` pins): what the ``q2c`` command would hand its run."""
    return Settings.from_env()


def run_settings(settings: Settings | None = None) -> object:
    """The ``settings`` resource of a run with these settings (default: the environment's),
    the as-of date pinned."""
    from pipelines.defs.resources import RunSettings

    settings = settings or current_settings()
    return RunSettings.of(settings, as_of=settings.as_of)


def run_refresh_job(period: str | None = None, settings: Settings | None = None) -> object:
    """The month-end close job (every asset and the report of ``period``, default the month
    before the as-of date), executed in-process on an ephemeral Dagster instance, with the
    run config ``q2c`` gives it."""
    from dagster import DagsterInstance

    from pipelines.cli import run_config
    from pipelines.definitions import defs
    from pipelines.defs.reports.month_end import last_closed_month

    settings = settings or current_settings()
    period = period or last_closed_month(settings.as_of)
    job = defs.resolve_job_def("month_end_close")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            instance=instance,
            run_config=run_config(settings),
            raise_on_error=False,
            partition_key=f"{period}-01",
        )


def failed_steps(result: object, *, but_gates: bool = True) -> list[str]:
    """Steps of ``result`` that failed; with ``but_gates``, leaving out the blocking gates that
    failed on planted problems (their failure is the gates doing their job)."""
    return [
        event.step_key
        for event in result.get_step_failure_events()
        if not (but_gates and failed_on_a_gate(event))
    ]


def sync_sources(settings: Settings | None = None) -> object:
    """Materialize only the extraction assets (all three systems), as a scheduled sync would."""
    from dagster import DagsterInstance, materialize
    from dagster_dlt import DagsterDltResource

    from pipelines.defs.ingest.assets import ingest_assets
    from pipelines.defs.ingest.checks import quarantine_checks
    from pipelines.settings import SETTINGS_KEY

    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [*ingest_assets, *quarantine_checks],
            resources={"dlt": DagsterDltResource(), SETTINGS_KEY: run_settings(settings)},
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
    """The folders under the dbt project's target/ (builds write theirs in the data folder)."""
    from pipelines.defs.resources import dbt_project

    return frozenset(p.name for p in dbt_project.manifest_path.parent.iterdir() if p.is_dir())
