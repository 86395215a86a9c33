"""Policies applied to the whole graph in one place: retries, freshness, owners, descriptions.

``pipelines/definitions.py`` applies them; nothing here is a definition of its own but the
specs of dlt's load logs, which dbt reads and the extract steps write.
"""

from __future__ import annotations

from datetime import timedelta

from dagster import (
    AssetsDefinition,
    AssetSpec,
    Backoff,
    FreshnessPolicy,
    In,
    Jitter,
    OpDefinition,
    Out,
    RetryPolicy,
)

from pipelines.lib.translators import OWNER, SYSTEM_NAMES, raw_asset_key
from pipelines.settings import SYSTEMS

EXTRACT_RETRY = RetryPolicy(
    max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)
"""An extract step that still fails after the HTTP client's own retries (a source down for
minutes, a dropped connection mid-load) runs again after about 30 s, 60 s and 120 s. It is
safe to: a load is merged on primary keys and published in one transaction."""

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


def with_retry_policy(assets_def: AssetsDefinition, policy: RetryPolicy) -> AssetsDefinition:
    """The same assets, computed by an op with ``policy``. ``@dlt_assets`` takes no retry
    policy, so it is set here, for every extract step at once."""
    op = assets_def.op
    retried = OpDefinition.dagster_internal_init(
        name=op.name,
        ins={d.name: In.from_definition(d) for d in op.input_defs},
        outs={d.name: Out.from_definition(d) for d in op.output_defs},
        compute_fn=op.compute_fn,
        config_schema=op.config_schema,
        description=op.description,
        tags=op.tags,
        required_resource_keys=op.required_resource_keys,
        code_version=op._version,  # as OpDefinition.with_replaced_properties copies it
        retry_policy=policy,
        version=None,
        pool=op.pool,
    )
    return AssetsDefinition.dagster_internal_init(
        **{**assets_def.get_attributes_dict(), "node_def": retried}
    )


def with_freshness(spec: AssetSpec) -> AssetSpec:
    """Freshness expectations on what finance reads: the marts, the analysts' copy, the report."""
    if spec.group_name in FINANCE_GROUPS:
        return spec.replace_attributes(freshness_policy=FINANCE_FRESHNESS)
    if spec.group_name == "reports":
        return spec.replace_attributes(freshness_policy=REPORT_FRESHNESS)
    return spec


def load_log_specs() -> list[AssetSpec]:
    """dlt's load log of each system (``raw_<system>._dlt_loads``): dbt reads it for the sync
    KPIs; the extract step writes it with every load."""
    return [
        AssetSpec(
            key=raw_asset_key(system, "_dlt_loads"),
            group_name=system,
            owners=[OWNER],
            description=(
                f"dlt's log of every load from {SYSTEM_NAMES[system]}: load id, status and "
                f"time, written by the `extract_{system}` step with the rows it loads."
            ),
        )
        for system in SYSTEMS
    ]
