"""One factory turns a committed GX checkpoint into a Dagster asset check.

GX runs against the warehouse through its SQL datasource (duckdb-engine); its results and
Data Docs are written under ``data/gx``. The check's metadata carries GX's statistics, the
observed counts and amounts, and up to 20 offending source record ids.
"""

from typing import Any

import great_expectations as gx
import great_expectations.execution_engine.sqlalchemy_execution_engine as gx_sql_engine
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


class _DuckDBDialect(str):
    value = "duckdb"


# GX 1.x reads a query's rows after handing its connection back to the pool, and
# duckdb-engine drops a cursor's rows when its connection is released: every metric came
# back empty. GX keeps one persisted connection for the dialects listed here; DuckDB (a
# single local file) belongs with them.
if "duckdb" not in gx_sql_engine._PERSISTED_CONNECTION_DIALECTS:
    gx_sql_engine._PERSISTED_CONNECTION_DIALECTS = (
        *gx_sql_engine._PERSISTED_CONNECTION_DIALECTS,
        _DuckDBDialect("duckdb"),
    )


class ValidationError(RuntimeError):
    """GX could not evaluate an expectation (as opposed to: the data failed it)."""


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


def _raised(expectation_result: Any) -> bool:
    """Did GX fail to evaluate this expectation (its info is a dict, or a list of dicts)?"""
    info = expectation_result.exception_info or {}
    if isinstance(info, dict):
        info = [info, *info.values()]
    return any(isinstance(i, dict) and i.get("raised_exception") for i in info)


def _offenders(settings: Settings, offenders_sql: str) -> dict[str, Any]:
    """Counts, amounts by currency and a sample of source record ids of what failed.

    ``offenders_sql`` returns ``source_record_id, currency, amount`` of each offending row.
    """
    with connect(settings.warehouse_path) as con:
        rows = con.execute(
            f"select count(*), count(distinct source_record_id) from ({offenders_sql})"
        ).fetchone()
        amounts = con.execute(
            f"""select currency, sum(amount) from ({offenders_sql})
                group by currency order by currency"""
        ).fetchall()
        sample = con.execute(
            f"""select distinct source_record_id from ({offenders_sql})
                order by source_record_id limit {SAMPLE_SIZE}"""
        ).fetchall()
    return {
        "offending_rows": rows[0],
        "amount_by_currency": MetadataValue.json({c: str(a) for c, a in amounts if c}),
        "sample_source_record_ids": MetadataValue.json([r[0] for r in sample]),
    }


def gx_asset_check(
    *,
    checkpoint: str,
    asset_key: AssetKey,
    offenders_sql: str,
    description: str,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    blocking: bool = False,
) -> AssetChecksDefinition:
    """A Dagster asset check running the committed GX checkpoint ``checkpoint``."""

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
        broken = [r.expectation_config.type for r in validation.results if _raised(r)]
        if broken:
            raise ValidationError(f"GX could not evaluate {checkpoint}: {', '.join(broken)}")
        failed = {
            (r.expectation_config.description or r.expectation_config.type): r.result.get(
                "observed_value"
            )
            for r in validation.results
            if not r.success
        }
        data_docs = settings.data_dir / "gx" / "data_docs" / "index.html"
        return AssetCheckResult(
            passed=bool(result.success),
            severity=severity,
            metadata={
                "evaluated_expectations": stats["evaluated_expectations"],
                "successful_expectations": stats["successful_expectations"],
                "failed_expectations": MetadataValue.json({k: str(v) for k, v in failed.items()}),
                "data_docs": MetadataValue.path(str(data_docs)),
                **_offenders(settings, offenders_sql),
            },
        )

    return _check
