"""Jobs and schedules: how the warehouse is kept fresh without anyone pressing a button.

The month-end close runs on business day N of the month after the period (Monday to Friday;
no holiday calendar), N from ``Q2C_CLOSE_BUSINESS_DAY`` (default 7). The ERP closes a month on
its 8th calendar day at the latest, and the 7th business day is never before the 9th.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from pipelines.defs.quality.checks import GATE_CHECK_KEYS
from pipelines.defs.reports.month_end import MONTHS, last_closed_month, month_end_report
from pipelines.defs.resources import RunSettings
from pipelines.lib.policies import REFRESH_CRON

MONTH_END_REPORT = AssetSelection.assets(month_end_report)
GATES = AssetSelection.checks(*GATE_CHECK_KEYS)

CLOSE_BUSINESS_DAY_VAR = "Q2C_CLOSE_BUSINESS_DAY"
DEFAULT_CLOSE_BUSINESS_DAY = 7
MAX_CLOSE_BUSINESS_DAY = 10
"""Business day 10 falls on the 14th at the latest, so the schedule looks at days 1 to 14."""

refresh_warehouse = define_asset_job(
    name="refresh_warehouse",
    selection=AssetSelection.all() - MONTH_END_REPORT - GATES,
    description=(
        "Sync CRM, PSA and ERP incrementally, rebuild the models, run the data-quality "
        "checks and publish the analysts' copy. The reconciliation gates run at month-end."
    ),
)

month_end_close = define_asset_job(
    name="month_end_close",
    selection=AssetSelection.all(),
    partitions_def=MONTHS,
    description=(
        "Everything the refresh does, then the reconciliation gates and the month-end report "
        "of one accounting month (the partition). Backfill past months from the UI."
    ),
)


def judged_on(settings: RunSettings, context: ScheduleEvaluationContext) -> date:
    """A scheduled run's as-of date: the day of its tick, unless the settings pin one (a
    simulated firm's clock)."""
    pinned = settings.as_of
    return date.fromisoformat(pinned) if pinned else context.scheduled_execution_time.date()


@schedule(
    name="refresh_warehouse_every_4_hours",
    job=refresh_warehouse,
    cron_schedule=REFRESH_CRON,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Incremental sync and rebuild, every 4 hours from 06:00 to 22:00 UTC.",
)
def refresh_schedule(context: ScheduleEvaluationContext, settings: RunSettings) -> RunRequest:
    return RunRequest(run_config=settings.run_config(as_of=judged_on(settings, context)))


def close_business_day() -> int:
    """N, the business day of the month on which the previous month is closed and reported."""
    text = os.environ.get(CLOSE_BUSINESS_DAY_VAR, "").strip()
    if not text:
        return DEFAULT_CLOSE_BUSINESS_DAY
    if not text.isdigit() or not 1 <= int(text) <= MAX_CLOSE_BUSINESS_DAY:
        raise ValueError(
            f"{CLOSE_BUSINESS_DAY_VAR}={text!r} is not a business day of the month: "
            f"use a whole number from 1 to {MAX_CLOSE_BUSINESS_DAY}"
        )
    return int(text)


def nth_business_day(year: int, month: int, n: int) -> date:
    """The n-th Monday-to-Friday day of a month."""
    day = date(year, month, 1)
    count = 0
    while True:
        if day.weekday() < 5:
            count += 1
            if count == n:
                return day
        day += timedelta(days=1)


# Fails the code location's load with the one-line reason when the setting is wrong.
close_business_day()


@schedule(
    job=month_end_close,
    cron_schedule="0 7 1-14 * *",
    default_status=DefaultScheduleStatus.RUNNING,
    description=(
        "The month-end close of the previous month at 07:00 UTC on business day N "
        f"({CLOSE_BUSINESS_DAY_VAR}, default {DEFAULT_CLOSE_BUSINESS_DAY})."
    ),
)
def month_end_close_schedule(context: ScheduleEvaluationContext, settings: RunSettings):
    today = context.scheduled_execution_time.date()
    n = close_business_day()
    close_day = nth_business_day(today.year, today.month, n)
    if today != close_day:
        return SkipReason(f"the close runs on business day {n}, {close_day.isoformat()}")
    period = last_closed_month(today)
    key = f"{period}-01"
    if key not in MONTHS.get_partition_keys(current_time=context.scheduled_execution_time):
        return SkipReason(f"{period} is outside the report partitions")
    return RunRequest(
        run_key=f"close-{period}",
        partition_key=key,
        run_config=settings.run_config(as_of=judged_on(settings, context)),
    )


jobs = [refresh_warehouse, month_end_close]
schedules = [refresh_schedule, month_end_close_schedule]
