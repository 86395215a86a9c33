"""Jobs and schedules: how the warehouse is kept fresh without anyone pressing a button."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from pipelines.defs.quality.checks import GATE_CHECK_KEYS
from pipelines.defs.reports.month_end import MONTHS

MONTH_END_REPORT = AssetSelection.groups("reports")
GATES = AssetSelection.checks(*GATE_CHECK_KEYS)

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
        "Everything the refresh does, then the reconciliation gates and the month-end report of one accounting month "
        "(the partition). Backfill past months from the UI."
    ),
)

refresh_schedule = ScheduleDefinition(
    name="refresh_warehouse_every_4_hours",
    job=refresh_warehouse,
    cron_schedule="0 6-22/4 * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)

# The ERP closes a month on its 8th day; the report of the month before runs on the 9th.
month_end_schedule = build_schedule_from_partitioned_job(
    month_end_close,
    day_of_month=9,
    hour_of_day=7,
    default_status=DefaultScheduleStatus.RUNNING,
)

jobs = [refresh_warehouse, month_end_close]
schedules = [refresh_schedule, month_end_schedule]
