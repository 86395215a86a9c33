"""The month-end report: what finance opens, written from the reconciliation marts only."""

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    asset,
)

from pipelines.defs.quality.checks import GATED_ASSETS
from pipelines.defs.quality.history import failed_blocking_gates
from pipelines.defs.reports.page import render_page
from pipelines.defs.reports.sections import (
    EXCEPTION_COUNTS,
    MARTS,
    Report,
    load_report,
    read_model,
)
from pipelines.defs.reports.workbook import write_workbook
from pipelines.defs.resources import RunSettings
from pipelines.lib.policies import MONTH_END_REPORT_KEY
from pipelines.lib.translators import OWNER
from pipelines.lib.warehouse import WAREHOUSE_POOL, connect
from pipelines.settings import Settings


class ReportFiles(NamedTuple):
    html: Path
    xlsx: Path


def last_closed_month(as_of: date) -> str:
    first = as_of.replace(day=1)
    previous = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return previous.strftime("%Y-%m")


def report_files(settings: Settings, period: str, *, draft: bool = False) -> ReportFiles:
    """Where the report of ``period`` is written: ``month_end_YYYY-MM[.DRAFT].html|.xlsx``."""
    stem = f"month_end_{period}{'.DRAFT' if draft else ''}"
    return ReportFiles(settings.reports_dir / f"{stem}.html", settings.reports_dir / f"{stem}.xlsx")


def render_report(
    settings: Settings, period: str, *, draft_reasons: Sequence[str] = ()
) -> ReportFiles:
    """Write the HTML page and the workbook of ``period`` (``YYYY-MM``) from the warehouse.

    With ``draft_reasons`` (the failed blocking gates, one line each) the files are the DRAFT
    ones and say why on top. Both files appear at once or not at all (written aside, then
    renamed), and a final report replaces the period's earlier draft. Callers write the
    final report only when every blocking gate passed (the asset and `q2c report` ask
    ``failed_blocking_gates``).
    """
    with connect(settings.warehouse_path) as con:
        report = load_report(con, period, settings.as_of.isoformat())
    files = report_files(settings, period, draft=bool(draft_reasons))
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    _write_both(files, report, draft_reasons)
    if not draft_reasons:
        for stale in report_files(settings, period, draft=True):
            stale.unlink(missing_ok=True)
    return files


def _write_both(files: ReportFiles, report: Report, draft_reasons: Sequence[str]) -> None:
    pending = ReportFiles(*(p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in files))
    try:
        pending.html.write_text(render_page(report, draft_reasons), encoding="utf-8")
        write_workbook(pending.xlsx, report, draft_reasons)
        for tmp, final in zip(pending, files, strict=True):
            os.replace(tmp, final)
    finally:
        for tmp in pending:
            tmp.unlink(missing_ok=True)


def exception_counts(settings: Settings, period: str) -> dict[str, int]:
    """Open exceptions of ``period`` and earlier, by type: the report asset's metadata."""
    with connect(settings.warehouse_path) as con:
        rows = read_model(con, EXCEPTION_COUNTS, ("exception_type", "exception_count"), period)
    return {row["exception_type"]: row["exception_count"] for row in rows}


MONTHS = MonthlyPartitionsDefinition(start_date="2023-01-01", end_offset=1)
"""One report per accounting month; the partition key is the month's first day. The
current month is a partition too (end_offset), for a close run against a clock ahead."""


def period_of(partition_key: str) -> str:
    return partition_key[:7]


@asset(
    key=MONTH_END_REPORT_KEY,
    # The gated marts (a failing blocking gate on any of them stops the report in that run)
    # and every other table the report reads.
    deps=[
        *GATED_ASSETS,
        *(AssetKey(m.split(".")) for m in MARTS if AssetKey(m.split(".")) not in GATED_ASSETS),
    ],
    partitions_def=MONTHS,
    group_name="reports",
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    description=(
        "The month-end report of one accounting month (HTML page and Excel workbook under "
        "data/reports), written from the reconciliation and canonical marts only, and only "
        "when every blocking gate passed."
    ),
)
def month_end_report(context: AssetExecutionContext, settings: RunSettings) -> MaterializeResult:
    run = settings.for_step()
    period = period_of(context.partition_key)
    # In the close the failing gate already skips this step; this guards a report
    # materialized on its own from a warehouse whose latest gates failed.
    failed = failed_blocking_gates(run)
    if failed:
        raise Failure(
            description=f"the {period} report is withheld, blocking gates failed: "
            + "; ".join(outcome.summary() for outcome in failed),
            metadata={"failed_gates": [outcome.checkpoint for outcome in failed]},
        )
    files = render_report(run, period)
    context.log.info(f"month-end report for {period} written to {files.html} and {files.xlsx}")
    return MaterializeResult(
        metadata={
            "period": period,
            "path": MetadataValue.path(str(files.html)),
            "workbook": MetadataValue.path(str(files.xlsx)),
            **{f"exceptions_{k}": v for k, v in exception_counts(run, period).items()},
        }
    )
