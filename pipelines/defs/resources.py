"""The resources every run gets: its settings, dlt and dbt.

``settings`` says where the run reads and writes and the day it judges on. Its config is the
run's own (the ``q2c`` command and the schedules put it in the run config, the UI's launchpad
shows it), it is resolved once when the run starts, and assets, checks, sources and dbt take
their paths and dates from it, never from the environment.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, Failure, InitResourceContext
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource
from pydantic import Field, PrivateAttr

from pipelines.lib.runs import owner_tags
from pipelines.settings import AS_OF_VAR, DBT_PROJECT_DIR, SETTINGS_KEY, Settings


class RunSettings(ConfigurableResource):
    """Where this run reads and writes, and the day the reconciliation judges on."""

    data_dir: str = Field(
        default="", description="The data folder (warehouse, landing files, reports, logs)."
    )
    warehouse_path: str = Field(
        default="", description="The DuckDB warehouse; empty: warehouse.duckdb in the data folder."
    )
    analytics_path: str = Field(
        default="",
        description="The analysts' read-only copy; empty: analytics.duckdb in the data folder.",
    )
    as_of: str = Field(
        default="",
        description="The date the reconciliation judges on (YYYY-MM-DD); empty: the day the run starts.",
    )

    tenant_profile: str = Field(
        default="",
        description="The firm's tenant profile (YAML); empty: the simulated firm's (pipelines/tenants/simulator.yml).",
    )

    _resolved: Settings | None = PrivateAttr(default=None)
    _run: tuple[Any, str] | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, settings: Settings, *, as_of: date | None = None) -> RunSettings:
        """The resource for ``settings``; the as-of date left open (the day each run starts)
        unless ``as_of`` pins it."""
        return cls(
            data_dir=str(settings.data_dir),
            warehouse_path=str(settings.warehouse_path),
            analytics_path=str(settings.analytics_path),
            as_of=as_of.isoformat() if as_of else "",
            tenant_profile=str(settings.tenant_profile),
        )

    @classmethod
    def from_env(cls) -> RunSettings:
        """The code location's default: the environment's paths, and its as-of date only where
        ``Q2C_AS_OF_DATE`` pins one (a simulated firm's clock, a re-run of a past day)."""
        settings = Settings.from_env()
        return cls.of(settings, as_of=settings.as_of if os.environ.get(AS_OF_VAR) else None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._resolved = self._resolve()
        if context.instance is not None and context.run_id is not None:
            # the process running this run, so that a crash of it can be told and recovered
            context.instance.add_run_tags(context.run_id, owner_tags())
            self._run = (context.instance, context.run_id)

    def for_step(self) -> Settings:
        """The run's settings, for a step about to start; the step fails at once when its run
        is being canceled.

        Dagster's in-process executor ends the step an interrupt reaches, then goes on with
        the next (only its multiprocess executor stops the plan); every q2c step starts here,
        so a canceled run ends within a second instead of running its remaining steps.
        """
        if self._run is not None:
            instance, run_id = self._run
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status.value == "CANCELING":
                raise Failure(
                    description="the run was canceled before this step", allow_retries=False
                )
        return self.resolved

    def _resolve(self) -> Settings:
        return Settings.resolve(
            data_dir=self.data_dir or None,
            warehouse_path=self.warehouse_path or None,
            analytics_path=self.analytics_path or None,
            as_of=self.as_of,
            tenant_profile=self.tenant_profile or None,
        )

    @property
    def resolved(self) -> Settings:
        """The paths and the as-of date of this run, resolved when it started."""
        if self._resolved is None:  # used outside a run (a schedule or sensor evaluation)
            self._resolved = self._resolve()
        return self._resolved

    def run_config(self, as_of: date | None = None) -> dict[str, Any]:
        """Run config giving a run these settings (all of them: Dagster takes a resource's
        config whole), with ``as_of`` pinned when given."""
        config = self.model_dump(
            include={"data_dir", "warehouse_path", "analytics_path", "as_of", "tenant_profile"}
        )
        if as_of is not None:
            config["as_of"] = as_of.isoformat()
        return {"resources": {SETTINGS_KEY: {"config": config}}}


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this interpreter, whether or not the venv is activated.
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )


def resources() -> dict[str, Any]:
    return {
        SETTINGS_KEY: RunSettings.from_env(),
        "dlt": DagsterDltResource(),
        "dbt": dbt_resource(),
    }
