"""The dbt project as Dagster assets: staging, canonical, reconciliation and report models.

The manifest is built ahead of time (``make manifest`` runs ``dbt parse``), never at import.
"""

import contextlib
import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliInvocation, DbtCliResource, dbt_assets

from pipelines.defs.resources import RunSettings, dbt_project
from pipelines.lib.translators import WarehouseDbtTranslator
from pipelines.lib.warehouse import WAREHOUSE_POOL
from pipelines.settings import AS_OF_VAR, WAREHOUSE_PATH_VAR, Settings, patched_environ

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"{dbt_project.manifest_path} is missing: run `make manifest` (dbt parse) first"
    )

BUILD_ARGS = [
    "build",
    # dbt's unit tests check the SQL, not the data: the test suite runs them, scheduled runs
    # don't.
    "--exclude-resource-type",
    "unit_test",
    # Dagster reads dbt's events from stdout; the debug file log of every query and event cost
    # a sixth of dbt's CPU (measured), so the file keeps only warnings and errors.
    "--log-level-file",
    "warn",
]


def dbt_environ(settings: Settings) -> dict[str, str]:
    """What dbt reads of the run's settings: the warehouse (``profiles.yml``) and the as-of
    date (``macros/as_of.sql``, read there rather than as a --vars so that a new date
    re-parses only the models that use it)."""
    return {WAREHOUSE_PATH_VAR: str(settings.warehouse_path), AS_OF_VAR: settings.as_of.isoformat()}


def run_dbt(
    dbt: DbtCliResource,
    settings: Settings,
    args: list[str],
    context: AssetExecutionContext | None = None,
) -> DbtCliInvocation:
    """A dbt command on the run's warehouse, as-of date and tenant profile.

    Its target folder is the data folder's own (``<data>/dbt``), one for every build of that
    warehouse: dbt keeps its parse there for the next build, and the last build's artifacts
    and dbt.log stay for a diagnosis, instead of a new folder per command.

    dagster-dbt gives a dbt command the environment of this process and no other: setting it
    per command is left to the caller, upstream's stance
    (https://github.com/dagster-io/dagster/pull/29656), hence the pinned environment here.
    """
    with patched_environ(dbt_environ(settings)):  # dbt's process and its adapter start now
        return dbt.cli(
            [*args, "--vars", dbt_vars(settings)],
            context=context,
            target_path=settings.dbt_target_dir,
        )


def dbt_vars(settings: Settings) -> str:
    """The tenant profile as dbt's ``--vars``: the same on every build of a firm, so dbt's
    partial parse holds (a new value re-parses the project once)."""
    return json.dumps(settings.tenant.dbt_vars(), sort_keys=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: AssetExecutionContext, dbt: DbtCliResource, settings: RunSettings
) -> Iterator[Any]:
    invocation = run_dbt(dbt, settings.for_step(), BUILD_ARGS, context)
    try:
        yield from invocation.stream()
    except BaseException:
        stop_dbt(invocation)
        raise


def stop_dbt(invocation: DbtCliInvocation, grace_seconds: float = 10) -> None:
    """End a dbt command whose step is failing. dagster-dbt forwards an interrupt to dbt and
    nothing else: an error while it turns dbt's events into Dagster's (a manifest older than
    the project, say) fails the step and leaves dbt building the warehouse behind it, holding
    DuckDB's lock. dbt gets SIGINT (it rolls back what it is writing), then SIGKILL."""
    process = invocation.process
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
