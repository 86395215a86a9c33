"""The extraction assets: one ``@dlt_assets`` per source system, all in one shape.

Sources are built anew in each run so configuration is read when the run starts (a
definition-time source only names the resources), with the run's settings (its data folder
and as-of date) from the ``settings`` resource. dlt loads each system into its own landing
file (``<data>/landing/<system>.duckdb``, which also keeps dlt's cursors); only a complete
load is then published into the warehouse's ``raw_<system>`` in one transaction, so a failed
or killed load leaves the warehouse as it was. Publishing writes the one DuckDB warehouse,
hence the shared ``warehouse`` concurrency pool.

A sync that fails on a transient error (a source down for minutes after the HTTP client's
own retries) asks Dagster to run the step again later (``RetryRequested``); one that a
source refused for a wrong setting fails at once with the one line that names it.
"""

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    RetryRequested,
)
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.defs.ingest.crm.source import crm
from pipelines.defs.ingest.deletions import flag_deletes
from pipelines.defs.ingest.erp.source import erp
from pipelines.defs.ingest.psa.source import psa
from pipelines.defs.resources import RunSettings
from pipelines.lib.extract import (
    QUARANTINE_TABLE,
    ExtractStats,
    permanent_failure,
    release_memory,
)
from pipelines.lib.policies import EXTRACT_RETRY
from pipelines.lib.translators import RawTranslator
from pipelines.lib.warehouse import DUCKDB_MEMORY_LIMIT, WAREHOUSE_POOL, publish_dataset
from pipelines.settings import Settings, landing_path, raw_dataset

SOURCES: dict[str, Callable[..., Any]] = {"crm": crm, "psa": psa, "erp": erp}


def make_source(system: str, settings: Settings, stats: ExtractStats) -> Any:
    """One system's dlt source as a run with ``settings`` reads it: the as-of date (Harvest's
    report) and the tenant profile (the fields the Salesforce and NetSuite queries name)."""
    options = {
        "psa": {"as_of": settings.as_of},
        "crm": {"tenant": settings.tenant},
        "erp": {"tenant": settings.tenant},
    }
    return SOURCES[system](stats=stats, **options[system])


def make_pipeline(system: str, settings: Settings) -> dlt.Pipeline:
    """The dlt pipeline loading one system into ``raw_<system>`` of its landing file."""
    landing = landing_path(settings, system)
    landing.parent.mkdir(parents=True, exist_ok=True)
    return _pipeline(system, landing, settings.dlt_pipelines_dir)


def _pipeline(system: str, landing: Path, pipelines_dir: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"q2c_{system}",
        destination=dlt.destinations.duckdb(
            DuckDbCredentials(str(landing), global_config={"memory_limit": DUCKDB_MEMORY_LIMIT})
        ),
        dataset_name=raw_dataset(system),
        pipelines_dir=str(pipelines_dir),
        progress="log",
    )


# @dlt_assets needs a pipeline when the definitions load; it only reads its names and
# destination. dlt writes a working folder for any pipeline it creates, so this one lives
# in a scratch folder: loading the definitions never touches data/.
_DEFINITION_DIR = Path(tempfile.gettempdir()) / "q2c-definitions"


UNAVAILABLE = "unavailable"
"""Metadata of an optional resource: the source's refusal of it in this sync, else empty."""


def _resource_metadata(stats: ExtractStats, resource: str) -> dict[str, Any]:
    return {
        "records_extracted": stats.records.get(resource, 0),
        "pages": stats.pages.get(resource, 0),
        "quarantined": stats.quarantined.get(resource, 0),
        "new_fields": ", ".join(stats.new_fields.get(resource, [])) or "none",
        UNAVAILABLE: stats.unavailable.get(resource, ""),
    }


def build_ingest_assets(system: str) -> AssetsDefinition:
    source_fn = SOURCES[system]

    @dlt_assets(
        dlt_source=source_fn(),
        dlt_pipeline=_pipeline(system, _DEFINITION_DIR / f"{system}.duckdb", _DEFINITION_DIR),
        name=f"extract_{system}",
        dagster_dlt_translator=RawTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def _extract(
        context: AssetExecutionContext, dlt: DagsterDltResource, settings: RunSettings
    ) -> Iterator[Any]:
        run = settings.for_step()
        stats = ExtractStats()
        try:
            results = list(
                dlt.run(
                    context=context,
                    dlt_source=make_source(system, run, stats),
                    dlt_pipeline=make_pipeline(system, run),
                    loader_file_format="parquet",
                )
            )
        except Exception as exc:
            settings.for_step()  # a sync stopped because the run is canceled is not retried
            raise _extract_failure(exc, system, context.retry_number) from exc
        published = publish_dataset(
            run.warehouse_path,
            landing_path(run, system),
            raw_dataset(system),
            finish=finish_publish,
        )
        run_figures = {
            "api_requests": stats.requests,
            "retried_responses": stats.retried_responses,
            "duration_seconds": stats.elapsed_seconds,
        }
        for result in results:
            resource = result.asset_key.path[-1]
            yield MaterializeResult(
                asset_key=result.asset_key,
                metadata={
                    **result.metadata,
                    **_resource_metadata(stats, resource),
                    "rows_in_warehouse": published.get(resource, 0),
                    **run_figures,
                },
            )
        del results
        release_memory()

    return _extract


def finish_publish(con: Any, dataset: str, tables: list[str]) -> None:
    """Inside the publish transaction: deletes flagged, and the quarantine table present even
    when no record was ever refused (the models read it)."""
    con.execute(
        f"""create table if not exists {dataset}.{QUARANTINE_TABLE} (
            source varchar, resource varchar, record_id varchar, reason varchar,
            payload varchar, _dlt_load_id varchar, _dlt_id varchar)"""
    )
    flag_deletes(con, dataset, tables)


def _extract_failure(error: Exception, system: str, retry_number: int) -> Exception:
    """What a failed sync becomes: a ``Failure`` with the source's one line when a setting is
    wrong (never retried), else a request to run the step again after a backoff."""
    refused = permanent_failure(error)
    if refused is not None:
        return Failure(description=str(refused), allow_retries=False)
    return RetryRequested(
        max_retries=EXTRACT_RETRY.max_retries, seconds_to_wait=EXTRACT_RETRY.wait(retry_number)
    )


ingest_assets = [build_ingest_assets(system) for system in SOURCES]
