"""One factory turns a committed GX checkpoint into a Dagster asset check.

GX runs against the warehouse through its SQL datasource (duckdb-engine). Gate thresholds
come from ``expectations/thresholds.yml`` (or ``Q2C_GATE_<GATE>_<PARAMETER>``) as suite
parameters. Every run is kept: GX's results and offline Data Docs under ``data/gx``, and one
row per check in the warehouse table ``quality.validation_results``, so a run can be
compared with the one before. The check's metadata carries GX's statistics, the observed
counts and amounts, up to 20 offending source record ids, and the change since last time.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from pipelines.lib.data_docs import make_offline
from pipelines.lib.warehouse import WAREHOUSE_POOL, connect
from pipelines.settings import EXPECTATIONS_DIR, SETTINGS_KEY, Settings

SAMPLE_SIZE = 20
THRESHOLDS_FILE = EXPECTATIONS_DIR / "thresholds.yml"
HISTORY_TABLE = "quality.validation_results"
REPORTING_CURRENCY = "USD"


GX_DUCKDB_DIALECT = "duckdb.q2c"
"""The SQLAlchemy dialect GX reads the warehouse through (``duckdb+q2c://``): duckdb-engine's,
in autocommit. GX 1.x reads a query's rows after it has closed the connection, and closing a
SQLAlchemy connection rolls its transaction back, which in duckdb-engine discards the rows not
yet read (its cursor is the connection): every metric came back empty
(https://github.com/great-expectations/great_expectations/issues/11579, #10738). GX only
reads, so the checks' connections open no transaction to roll back."""


def _gx() -> Any:
    """Great Expectations, imported when a check runs: the import takes seconds, and every
    process that loads the definitions (each run, the UI, each test) would pay for it."""
    import great_expectations as gx
    from sqlalchemy.dialects import registry

    registry.register(GX_DUCKDB_DIALECT, "pipelines.lib.gx_duckdb", "AutocommitDuckDBDialect")
    return gx


class ValidationError(RuntimeError):
    """GX could not evaluate an expectation (as opposed to: the data failed it)."""


@dataclass(frozen=True)
class Suite:
    """A committed checkpoint (expectations/gx/checkpoints/<checkpoint>.json) and what it guards.

    A gate's GX data asset is the query listing its offenders (``source_record_id``,
    ``currency``, ``amount``, ``amount_reporting``): the same rows the check reports.
    """

    checkpoint: str
    asset_key: AssetKey
    description: str
    severity: AssetCheckSeverity
    blocking: bool = False


def configured_thresholds() -> dict[str, dict[str, Any]]:
    """thresholds.yml as written: each gate's parameters and their values."""
    try:
        return yaml.safe_load(THRESHOLDS_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"cannot read gate thresholds from {THRESHOLDS_FILE}: {exc}") from exc


def threshold_variable(checkpoint: str, name: str) -> str:
    """The environment variable that overrides one threshold, e.g.
    Q2C_GATE_UNBILLED_APPROVED_TIME_MAX_ROWS."""
    return f"Q2C_GATE_{checkpoint}_{name}".upper()


def thresholds(checkpoint: str) -> dict[str, Decimal | int]:
    """The suite parameters of ``checkpoint``: thresholds.yml, overridden by the environment."""
    values = {}
    for name, value in (configured_thresholds().get(checkpoint) or {}).items():
        override = os.environ.get(threshold_variable(checkpoint, name))
        raw = str(value if override is None else override).strip()
        try:
            values[name] = int(raw) if name == "max_rows" else Decimal(raw)
        except (ArithmeticError, ValueError) as exc:
            raise ValidationError(
                f"gate threshold {checkpoint}.{name} is not a number: {raw!r}"
            ) from exc
    return values


def _context(settings: Settings) -> Any:
    results_dir = settings.data_dir / "gx"
    results_dir.mkdir(parents=True, exist_ok=True)
    return _gx().get_context(
        mode="file",
        project_root_dir=str(EXPECTATIONS_DIR),
        runtime_environment={
            "Q2C_GX_WAREHOUSE_URL": f"duckdb+q2c:///{settings.warehouse_path}",
            "Q2C_GX_RESULTS_DIR": str(results_dir),
        },
    )


def data_docs_index(settings: Settings) -> Path:
    return settings.data_dir / "gx" / "data_docs" / "index.html"


def run_checkpoint(
    settings: Settings,
    checkpoint_name: str,
    run_name: str | None = None,
    parameters: dict[str, Decimal | int] | None = None,
) -> Any:
    """Run one committed checkpoint against the warehouse and return its result. ``run_name``
    (the Dagster run id) names the run in GX's results and Data Docs; ``parameters`` are the
    suite parameters (default: the checkpoint's ``thresholds``)."""
    checkpoint = _context(settings).checkpoints.get(checkpoint_name)
    from great_expectations.core.run_identifier import RunIdentifier

    try:
        result = checkpoint.run(
            expectation_parameters=thresholds(checkpoint_name)
            if parameters is None
            else parameters,
            run_id=RunIdentifier(run_name=run_name),
        )
    finally:
        # Release the file: DuckDB lets another connection in only when GX's are all closed.
        for definition in checkpoint.validation_definitions:
            datasource = definition.data.data_asset.datasource
            if datasource.execution_engine is not None:
                datasource.execution_engine.close()
            datasource.get_engine().dispose()
    make_offline(data_docs_index(settings).parent)
    return result


def _raised(expectation_result: Any) -> bool:
    """Did GX fail to evaluate this expectation (its info is a dict, or a list of dicts)?"""
    info = expectation_result.exception_info or {}
    if isinstance(info, dict):
        info = [info, *info.values()]
    return any(isinstance(i, dict) and i.get("raised_exception") for i in info)


@dataclass
class Offenders:
    rows: int
    record_ids: int
    amount_by_currency: dict[str, Decimal]
    amount_reporting: Decimal | None
    sample: list[str]


def _query_offenders(con: Any, query: str) -> Offenders:
    """Counts, amounts and a sample of a gate's offenders: the rows of its GX asset's query,
    read in one pass (one row per currency, and the rollup row for all of them)."""
    rows = con.execute(
        f"""select grouping(currency) = 1 as is_total, currency, count(*),
                   count(distinct source_record_id), sum(amount),
                   coalesce(sum(abs(amount_reporting)), 0),
                   list(distinct source_record_id order by source_record_id)[1:{SAMPLE_SIZE}]
            from ({query}) group by rollup (currency)"""
    ).fetchall()
    (total,) = [row for row in rows if row[0]]
    by_currency = {row[1]: row[4] for row in rows if not row[0] and row[1] is not None}
    return Offenders(total[2], total[3], by_currency, Decimal(total[5]), list(total[6] or []))


def _result_offenders(validation: Any) -> Offenders:
    """For a data-quality suite: the failed expectations' counts and the source record ids GX
    returned in their unexpected rows."""
    rows, sample = 0, []
    for r in validation.results:
        if r.success:
            continue
        result = r.result or {}
        count = result.get("unexpected_count", result.get("observed_value"))
        rows += count if isinstance(count, int) else 0
        for row in (result.get("details") or {}).get("unexpected_rows") or []:
            record_id = row.get("source_record_id") if isinstance(row, dict) else None
            if record_id is not None and record_id not in sample and len(sample) < SAMPLE_SIZE:
                sample.append(str(record_id))
    return Offenders(rows, len(sample), {}, None, sample)


def _record(con: Any, row: dict[str, Any]) -> tuple[int, datetime] | None:
    """Append this validation to the history table; return the offending rows and time of
    the check's previous validation."""
    con.execute("create schema if not exists quality")
    con.execute(
        f"""create table if not exists {HISTORY_TABLE} (
            run_id varchar, checkpoint varchar, asset_key varchar, severity varchar,
            blocking boolean, passed boolean, evaluated_expectations integer,
            successful_expectations integer, offending_rows bigint, offending_record_ids bigint,
            reporting_currency varchar, offending_amount_reporting decimal(38, 2),
            amount_by_currency json, sample_source_record_ids json, thresholds json,
            failed_expectations json, as_of_date date, checked_at timestamptz)"""
    )
    previous = con.execute(
        f"""select offending_rows, checked_at
            from {HISTORY_TABLE} where checkpoint = ? order by checked_at desc limit 1""",
        [row["checkpoint"]],
    ).fetchone()
    columns = ", ".join(row)
    con.execute(
        f"insert into {HISTORY_TABLE} ({columns}) values ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return previous


def gx_asset_check(suite: Suite) -> AssetChecksDefinition:
    """A Dagster asset check running the committed GX checkpoint of ``suite``."""

    @asset_check(
        asset=suite.asset_key,
        name=f"gx_{suite.checkpoint}",
        description=suite.description,
        blocking=suite.blocking,
        pool=WAREHOUSE_POOL,
        # the run's settings resource (pipelines/defs/resources.py), by key: lib/ imports no defs
        required_resource_keys={SETTINGS_KEY},
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        run: Settings = getattr(context.resources, SETTINGS_KEY).for_step()
        limits = thresholds(suite.checkpoint)
        result = run_checkpoint(run, suite.checkpoint, context.run.run_id, limits)
        validation = next(iter(result.run_results.values()))
        # A gate's data asset is the query of its offenders (expectations/gx/great_expectations.yml).
        query = validation.meta["batch_spec"].get("query")
        stats = validation.statistics
        broken = [r.expectation_config.type for r in validation.results if _raised(r)]
        if broken:
            raise ValidationError(f"GX could not evaluate {suite.checkpoint}: {', '.join(broken)}")
        failed = {
            (r.expectation_config.description or r.expectation_config.type): str(
                r.result.get("observed_value", r.result.get("unexpected_count"))
            )
            for r in validation.results
            if not r.success
        }
        with connect(run.warehouse_path) as con:
            offenders = (
                _query_offenders(con, query) if suite.blocking else _result_offenders(validation)
            )
            amounts = {c: str(a) for c, a in offenders.amount_by_currency.items()}
            limits_text = {k: str(v) for k, v in limits.items()}
            previous = _record(
                con,
                {
                    "run_id": context.run.run_id,
                    "checkpoint": suite.checkpoint,
                    "asset_key": suite.asset_key.to_user_string(),
                    "severity": suite.severity.value,
                    "blocking": suite.blocking,
                    "passed": bool(result.success),
                    "evaluated_expectations": stats["evaluated_expectations"],
                    "successful_expectations": stats["successful_expectations"],
                    "offending_rows": offenders.rows,
                    "offending_record_ids": offenders.record_ids,
                    "reporting_currency": REPORTING_CURRENCY,
                    "offending_amount_reporting": offenders.amount_reporting,
                    "amount_by_currency": json.dumps(amounts),
                    "sample_source_record_ids": json.dumps(offenders.sample),
                    "thresholds": json.dumps(limits_text),
                    "failed_expectations": json.dumps(failed),
                    "as_of_date": run.as_of,
                    "checked_at": datetime.now(UTC),
                },
            )
        metadata: dict[str, Any] = {
            "evaluated_expectations": stats["evaluated_expectations"],
            "successful_expectations": stats["successful_expectations"],
            "failed_expectations": MetadataValue.json(failed),
            "offending_rows": offenders.rows,
            "offending_source_records": offenders.record_ids,
            "sample_source_record_ids": MetadataValue.json(offenders.sample),
            "data_docs": MetadataValue.path(str(data_docs_index(run))),
            "history": MetadataValue.text(
                f"{HISTORY_TABLE} where checkpoint = '{suite.checkpoint}'"
            ),
        }
        if suite.blocking:
            metadata["amount_by_currency"] = MetadataValue.json(amounts)
            metadata["offending_amount_reporting"] = (
                f"{REPORTING_CURRENCY} {offenders.amount_reporting:,.2f}"
            )
            metadata["thresholds"] = MetadataValue.json(limits_text)
        if previous is not None:
            previous_rows, previous_at = previous
            metadata["previous_offending_rows"] = previous_rows
            metadata["change_in_offending_rows"] = offenders.rows - previous_rows
            metadata["previous_checked_at"] = str(previous_at)
        return AssetCheckResult(
            passed=bool(result.success), severity=suite.severity, metadata=metadata
        )

    return _check
