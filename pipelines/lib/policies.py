"""Policies applied to the whole graph in one place: retries, freshness, owners, descriptions.

``pipelines/definitions.py`` applies them; nothing here is a definition of its own but the
specs of dlt's load logs, which dbt reads and the extract steps write.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from dagster import AssetKey, AssetSpec, FreshnessPolicy

from pipelines.lib.translators import OWNER, raw_asset_key
from pipelines.settings import SYSTEM_NAMES, SYSTEMS


@dataclass(frozen=True)
class StepRetry:
    """How often a failed step is run again, and how long after each failure."""

    max_retries: int
    delay_seconds: float

    def wait(self, retry_number: int) -> float:
        """Seconds before retry ``retry_number + 1``: doubling, with ±25 % jitter so that
        the three sources do not all come back at the same second."""
        return round(self.delay_seconds * 2**retry_number * random.uniform(0.75, 1.25), 1)


EXTRACT_RETRY = StepRetry(max_retries=3, delay_seconds=30)
"""An extract step that still fails after the HTTP client's own retries (a source down for
minutes, a dropped connection mid-load) runs again after about 30 s, 60 s and 120 s. It is
safe to: a load is merged on primary keys and published in one transaction. The extract
asset asks for it (``RetryRequested``) only for transient failures: ``@dlt_assets`` takes
no retry policy, and a job-wide ``op_retry_policy`` would also retry dbt and the checks,
whose failures the same data repeats."""

REFRESH_CRON = "0 6-22/4 * * *"
"""The refresh job's schedule (UTC): 06:00, 10:00, 14:00, 18:00 and 22:00."""

FINANCE_FRESHNESS = FreshnessPolicy.cron(
    deadline_cron="0 7-23/4 * * *", lower_bound_delta=timedelta(hours=4)
)
"""The reconciliation marts and the analysts' copy are rebuilt by every scheduled refresh:
each refresh's figures are in place within an hour of its start (07:00 for the 06:00 run,
and so on), or the asset shows as stale (FAIL) in the UI until the next build lands."""

REPORT_FRESHNESS = FreshnessPolicy.cron(
    deadline_cron="0 0 16 * *", lower_bound_delta=timedelta(days=15)
)
"""The month-end report is written between the 1st and the 16th of each month: the close runs
on business day N (at most the 10th business day, so never later than the 14th)."""

FINANCE_GROUPS = ("reconciliation", "publish")
MONTH_END_REPORT_KEY = AssetKey(["reports", "month_end_report"])


def with_freshness(spec: AssetSpec) -> AssetSpec:
    """Freshness expectations on what finance reads: the marts, the analysts' copy, the report."""
    if spec.group_name in FINANCE_GROUPS:
        return spec.replace_attributes(freshness_policy=FINANCE_FRESHNESS)
    if spec.key == MONTH_END_REPORT_KEY:
        return spec.replace_attributes(freshness_policy=REPORT_FRESHNESS)
    return spec


def load_log_specs() -> list[AssetSpec]:
    """The tables the extract step of each system writes beside its resources: dlt's load log
    (``raw_<system>._dlt_loads``: dbt reads it for the sync KPIs) and the quarantine
    (``raw_<system>.quarantine``: dbt reads it for the reasons of orphaned records)."""
    return [
        AssetSpec(
            key=raw_asset_key(system, table),
            group_name=system,
            owners=[OWNER],
            description=description.format(name=SYSTEM_NAMES[system], system=system),
        )
        for system in SYSTEMS
        for table, description in (
            (
                "_dlt_loads",
                "dlt's log of every load from {name}: load id, status and time, written by the "
                "`extract_{system}` step with the rows it loads.",
            ),
            (
                "quarantine",
                "The {name} records the `extract_{system}` step refused, with the reason and "
                "the raw payload (`raw_{system}.quarantine`).",
            ),
        )
    ]
