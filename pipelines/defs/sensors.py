"""Sensors: the month-end close starts when the ERP closes a month; failed runs are recorded;
runs whose process died are recovered.

Both read and write outside the warehouse file (its one writer may be busy): the close
sensor reads the analysts' published copy, failures go to data/ops/failed_runs.jsonl.
"""

import json
from datetime import UTC, datetime

import duckdb
from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from pipelines.defs.reports.month_end import MONTHS
from pipelines.defs.resources import RunSettings
from pipelines.defs.schedules import month_end_close
from pipelines.lib.runs import recover_dead_runs
from pipelines.settings import Settings


def closed_months(settings: Settings) -> list[str]:
    """Months (YYYY-MM) the ERP has closed, as last published for analysts."""
    if not settings.analytics_path.exists():
        return []
    con = duckdb.connect(str(settings.analytics_path), read_only=True)
    try:
        rows = con.execute(
            "select fiscal_month from canonical.periods where is_closed order by 1"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()
    return [r[0] for r in rows]


@sensor(
    job=month_end_close,
    minimum_interval_seconds=600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts the month-end close for each month the ERP newly closes.",
)
def period_closed_sensor(context: SensorEvaluationContext, settings: RunSettings):
    months = closed_months(settings.resolved)
    if not months:
        return SkipReason("no closed period published yet")
    latest = months[-1]
    if context.cursor and latest <= context.cursor:
        return SkipReason(f"no month closed since {context.cursor}")
    context.update_cursor(latest)
    key = f"{latest}-01"
    if key not in MONTHS.get_partition_keys():
        return SkipReason(f"{latest} is outside the report partitions")
    return RunRequest(
        run_key=f"close-{latest}", partition_key=key, run_config=settings.run_config()
    )


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Records every failed run in data/ops/failed_runs.jsonl for the operations view.",
)
def record_failed_runs(context: RunFailureSensorContext, settings: RunSettings) -> None:
    path = settings.resolved.data_dir / "ops" / "failed_runs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "recorded_at": datetime.now(UTC).isoformat(),
        "run_id": context.dagster_run.run_id,
        "job": context.dagster_run.job_name,
        "error": (context.failure_event.message or "")[:500],
    }
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every minute: a run whose process died (killed, crashed, the machine restarted) is "
        "marked failed and its warehouse slot released, so queued runs go on (and the "
        "instance's run_retries start it again once)."
    ),
)
def recover_crashed_runs(context: SensorEvaluationContext):
    recovered = recover_dead_runs(context.instance)
    for run in recovered:
        context.log.warning(
            f"run {run.run_id} ({run.job_name}): its process (pid {run.pid}) was gone; "
            "marked failed, its slots released"
        )
    return SkipReason(
        f"recovered {len(recovered)} runs whose process was gone"
        if recovered
        else "no run lost its process"
    )


sensors = [period_closed_sensor, record_failed_runs, recover_crashed_runs]
