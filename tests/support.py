"""Helpers for the tests: the built warehouse and how the scheduled job is run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lib.simulated import SimulatedSources


@dataclass
class BuiltWarehouse:
    data_dir: Path
    warehouse: Path
    sim: SimulatedSources
    result: object

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def firm(self, sql: str) -> list[tuple]:
        return self.sim.firm.execute(sql).fetchall()


def run_refresh_job() -> object:
    """The scheduled job, executed in-process on an ephemeral Dagster instance."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    job = defs.resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)
