"""The dbt project as Dagster assets: staging, canonical and reconciliation models.

The manifest is built ahead of time (``make manifest`` runs ``dbt parse``), never at import.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.defs.ingest.assets import WAREHOUSE_POOL
from pipelines.lib.translators import WarehouseDbtTranslator
from pipelines.settings import DBT_PROJECT_DIR, Settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"{dbt_project.manifest_path} is missing: run `make manifest` (dbt parse) first"
    )


def dbt_vars(settings: Settings) -> str:
    return json.dumps({"as_of_date": settings.as_of.isoformat()})


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
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars(settings)]
    # Dagster reads dbt's events from stdout; the debug file log of every query and event cost
    # a sixth of dbt's CPU (measured), so the file keeps only warnings and errors.
    args += ["--log-level-file", "warn"]
    yield from dbt.cli(args, context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this interpreter, whether or not the venv is activated.
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
