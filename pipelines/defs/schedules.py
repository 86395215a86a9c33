"""Jobs and schedules: how the warehouse is kept fresh without anyone pressing a button."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

refresh_warehouse = define_asset_job(
    name="refresh_warehouse",
    selection=AssetSelection.all(),
    description="Sync CRM, PSA and ERP incrementally, rebuild the models, run the checks, write the report.",
)

refresh_schedule = ScheduleDefinition(
    name="refresh_warehouse_every_4_hours",
    job=refresh_warehouse,
    cron_schedule="0 6-22/4 * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)

jobs = [refresh_warehouse]
schedules = [refresh_schedule]
