"""The q2c code location: assembles the definitions and applies the graph-wide policies."""

from dagster import Definitions, in_process_executor, map_asset_specs

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.ingest.checks import quarantine_checks
from pipelines.defs.publish.analytics import analytics_published
from pipelines.defs.quality.checks import quality_checks
from pipelines.defs.quality.orphans import orphaned_records_check
from pipelines.defs.reports.month_end import month_end_report
from pipelines.defs.resources import resources
from pipelines.defs.schedules import jobs, schedules
from pipelines.defs.sensors import sensors
from pipelines.defs.transform.dbt import warehouse_models
from pipelines.lib.policies import load_log_specs, with_freshness

defs = Definitions(
    assets=map_asset_specs(
        with_freshness,
        [
            *ingest_assets,
            *load_log_specs(),
            warehouse_models,
            month_end_report,
            analytics_published,
        ],
    ),
    asset_checks=[*quarantine_checks, *quality_checks, orphaned_records_check],
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources=resources(),
    # One DuckDB file takes one writer: a run's steps execute one after another in one process.
    executor=in_process_executor,
)
