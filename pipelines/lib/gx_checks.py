"""One factory turns a committed GX checkpoint into a Dagster asset check.

GX runs against the warehouse through its SQL datasource (duckdb-engine); its results and
Data Docs are written under ``data/gx``. The check's metadata carries GX's statistics, the
observed counts and amounts, and up to 20 offending source record ids.
"""

from typing import Any

import great_expectations as gx
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from pipelines.lib.warehouse import connect
from pipelines.settings import EXPECTATIONS_DIR, Settings

SAMPLE_SIZE = 20


def run_checkpoint(settings: Settings, checkpoint_name: str) -> Any:
    """Run one committed checkpoint against the configured warehouse and return its result."""
    results_dir = settings.data_dir / "gx"
    results_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(
        mode="file",
        project_root_dir=str(EXPECTATIONS_DIR),
        runtime_environment={
            "Q2C_GX_WAREHOUSE_URL": f"duckdb:///{settings.warehouse_path}",
            "Q2C_GX_RESULTS_DIR": str(results_dir),
        },
    )
    checkpoint = context.checkpoints.get(checkpoint_name)
    try:
        return checkpoint.run()
    finally:
        # Release the file: DuckDB lets another connection in only when GX's are all closed.
        for definition in checkpoint.validation_definitions:
            datasource = definition.data.data_asset.datasource
            if datasource.execution_engine is not None:
                datasource.execution_engine.close()
            datasource.get_engine().dispose()


def _offenders(settings: Settings, table: str) -> dict[str, Any]:
    with connect(settings.warehouse_path) as con:
        rows = con.execute(
            f"select count(*), count(distinct source_record_id) from {table}"
        ).fetchone()
        amounts = con.execute(
            f"select currency, sum(amount) from {table} group by currency order by currency"
        ).fetchall()
        sample = con.execute(
            f"select source_record_id from {table} order by source_record_id limit {SAMPLE_SIZE}"
        ).fetchall()
    return {
        "offending_rows": rows[0],
        "amount_by_currency": MetadataValue.json({c: str(a) for c, a in amounts}),
        "sample_source_record_ids": MetadataValue.json([r[0] for r in sample]),
    }


def gx_asset_check(
    *,
    checkpoint: str,
    asset_key: AssetKey,
    table: str,
    description: str,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    blocking: bool = False,
) -> AssetChecksDefinition:
    """A Dagster asset check running the GX checkpoint ``checkpoint`` on ``table``."""

    @asset_check(
        asset=asset_key,
        name=f"gx_{checkpoint}",
        description=description,
        blocking=blocking,
        pool="warehouse",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        settings = Settings.from_env()
        result = run_checkpoint(settings, checkpoint)
        validation = next(iter(result.run_results.values()))
        stats = validation.statistics
        failed = [r.expectation_config.type for r in validation.results if not r.success]
        data_docs = settings.data_dir / "gx" / "data_docs" / "index.html"
        return AssetCheckResult(
            passed=bool(result.success),
            severity=severity,
            metadata={
                "evaluated_expectations": stats["evaluated_expectations"],
                "successful_expectations": stats["successful_expectations"],
                "failed_expectations": MetadataValue.json(failed),
                "data_docs": MetadataValue.path(str(data_docs)),
                **_offenders(settings, table),
            },
        )

    return _check
