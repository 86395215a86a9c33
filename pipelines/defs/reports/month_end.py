"""The month-end report: what finance opens, written from the reconciliation marts only."""

import html
from datetime import date
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    asset,
)

from pipelines.defs.ingest.assets import WAREHOUSE_POOL
from pipelines.defs.quality.checks import GATED_ASSETS
from pipelines.lib.translators import OWNER
from pipelines.lib.warehouse import connect
from pipelines.settings import Settings


def last_closed_month(as_of: date) -> str:
    first = as_of.replace(day=1)
    previous = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return previous.strftime("%Y-%m")


def render_report(settings: Settings, period: str) -> tuple[Path, dict[str, int]]:
    """Write the HTML report for ``period`` and return its path and exception counts."""
    with connect(settings.warehouse_path) as con:
        by_bucket = con.execute(
            """
            select aging_bucket, currency, count(*), sum(hours), sum(amount)
            from reconciliation.unbilled_approved_time
            group by all order by aging_bucket, currency
            """
        ).fetchall()
        detail = con.execute(
            """
            select source_record_id, project_id, spent_date, hours, currency, amount, age_days
            from reconciliation.unbilled_approved_time
            order by age_days desc, source_record_id limit 200
            """
        ).fetchall()
    counts = {"unbilled_approved_time": sum(r[2] for r in by_bucket)}

    def table(headers: list[str], rows: list[tuple]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>q2c month-end report {period}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
th{{background:#f3f3f3}}</style></head><body>
<h1>Month-end report {period}</h1>
<p>As of {settings.as_of.isoformat()}. Every row names its source system record id.</p>
<h2>Unbilled approved time by age</h2>
{table(["aging bucket", "currency", "entries", "hours", "amount"], by_bucket)}
<h2>Unbilled approved time: oldest entries (Harvest time entry ids)</h2>
{table(["time entry id", "project id", "spent", "hours", "currency", "amount", "age (days)"], detail)}
</body></html>
"""
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / f"month_end_{period}.html"
    path.write_text(page, encoding="utf-8")
    return path, counts


MONTHS = MonthlyPartitionsDefinition(start_date="2023-01-01", end_offset=1)
"""One report per accounting month; the partition key is the month's first day. The
current month is a partition too (end_offset), for a close run against a clock ahead."""


def period_of(partition_key: str) -> str:
    return partition_key[:7]


@asset(
    key=AssetKey(["reports", "month_end_report"]),
    # The gated marts: a failing blocking gate on any of them stops the report in that run.
    deps=GATED_ASSETS,
    partitions_def=MONTHS,
    group_name="reports",
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    description=(
        "The month-end report of one accounting month (HTML under data/reports), "
        "written from the reconciliation marts only."
    ),
)
def month_end_report(context: AssetExecutionContext) -> MaterializeResult:
    settings = Settings.from_env()
    period = period_of(context.partition_key)
    path, counts = render_report(settings, period)
    context.log.info(f"month-end report for {period} written to {path}")
    return MaterializeResult(
        metadata={
            "period": period,
            "path": MetadataValue.path(str(path)),
            **{f"exceptions_{k}": v for k, v in counts.items()},
        }
    )
