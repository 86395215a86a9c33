"""The dbt project as Dagster assets: staging, canonical and reconciliation models.

The manifest is built ahead of time (``make manifest`` runs ``dbt parse``), never at import.
"""

import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject, dbt_assets

from pipelines.defs.ingest.assets import WAREHOUSE_POOL
from pipelines.lib.translators import WarehouseDbtTranslator
from pipelines.settings import DBT_PROJECT_DIR, Settings, patched_environ

PARTIAL_PARSE = "partial_parse.msgpack"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"{dbt_project.manifest_path} is missing: run `make manifest` (dbt parse) first"
    )


def dbt_environ(as_of: date) -> dict[str, str]:
    """What a dbt process needs beside the profile: the as-of date, pinned for the build (dbt
    reads it in macros/as_of.sql), so that every model judges on the day the run does."""
    return {"Q2C_AS_OF_DATE": as_of.isoformat()}


def finish_build(invocation: DbtCliInvocation) -> None:
    """After a successful dbt command: its parse is kept for the next, its folder removed.

    dagster-dbt gives every command its own folder under target/ (about 12 MB of compiled
    SQL and artifacts at a time: a refresh every four hours would pile up gigabytes a
    year); Dagster already holds the command's events. A failed command keeps its folder,
    and its dbt.log, for the diagnosis.

    dagster-dbt copies target/partial_parse.msgpack into each command's folder; left as
    `make manifest` wrote it, it never matches a run's profile (the warehouse path), and
    every build re-parsed the whole project first (about 4 s).
    """
    folder = Path(invocation.project_dir, invocation.target_path)
    built = folder / PARTIAL_PARSE
    if built.exists():
        kept = dbt_project.manifest_path.with_name(PARTIAL_PARSE)
        staged = kept.with_name(f"{PARTIAL_PARSE}.{os.getpid()}.tmp")
        shutil.copyfile(built, staged)
        os.replace(staged, kept)
    shutil.rmtree(folder, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    # dbt runs as a subprocess; its profile resolves the warehouse path as Settings does.
    settings = Settings.from_env()
    # dbt's unit tests check the SQL, not the data: the test suite runs them, scheduled runs don't.
    args = ["build", "--exclude-resource-type", "unit_test"]
    # Dagster reads dbt's events from stdout; the debug file log of every query and event cost
    # a sixth of dbt's CPU (measured), so the file keeps only warnings and errors.
    args += ["--log-level-file", "warn"]
    with patched_environ(dbt_environ(settings.as_of)):  # dbt's process takes the environment now
        invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    finish_build(invocation)


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this interpreter, whether or not the venv is activated.
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
