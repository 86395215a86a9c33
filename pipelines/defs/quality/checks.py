"""Expectation suites (in expectations/) as asset checks on the models they guard.

The three reconciliation gates are ERROR and blocking: when one fails, the month-end report
is not produced in that run, and the run says which gate stopped it. They run in the
month-end close (and whenever someone runs them from the UI), not in the 4-hourly refresh,
which would otherwise fail every few hours on exceptions finance is still working through.
The data-quality suites on the canonical entities are warnings and run in every build.
"""

from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterEvent

from pipelines.lib.gx_checks import Suite, gx_asset_check


def _gate(checkpoint: str, description: str) -> Suite:
    """A reconciliation gate: ERROR and blocking, on the mart of the same name."""
    return Suite(
        checkpoint=checkpoint,
        asset_key=AssetKey(["reconciliation", checkpoint]),
        description=f"Gate: {description} (thresholds: expectations/thresholds.yml).",
        severity=AssetCheckSeverity.ERROR,
        blocking=True,
    )


GATES = [
    _gate(
        "unbilled_approved_time",
        "no approved, billable time older than the grace period stays unbilled. Lists the "
        "Harvest time entries to invoice",
    ),
    _gate(
        "missing_tax_codes",
        "every customer invoice line has a tax code, and its tax is rate × net within a cent. "
        "Lists the NetSuite invoice lines to fix",
    ),
    _gate(
        "reporting_drift",
        "no closed period's figures moved since close, and PSA billed and ERP invoiced agree "
        "within tolerance. Lists the periods and legal entities ('YYYY-MM|<subsidiary id>') "
        "that moved",
    ),
]

DATA_QUALITY = [
    Suite(
        checkpoint="canonical_time_entries",
        asset_key=AssetKey(["canonical", "time_entries"]),
        description="Data quality: keys, hours between 0 and 24, ISO currencies, dates in range.",
        severity=AssetCheckSeverity.WARN,
    ),
    Suite(
        checkpoint="canonical_invoices",
        asset_key=AssetKey(["canonical", "invoices"]),
        description="Data quality: keys, ISO currencies, invoice totals equal to their lines.",
        severity=AssetCheckSeverity.WARN,
    ),
]

CHECKPOINTS = [suite.checkpoint for suite in [*GATES, *DATA_QUALITY]]
GATED_ASSETS = [gate.asset_key for gate in GATES]
GATE_CHECK_KEYS = [AssetCheckKey(gate.asset_key, f"gx_{gate.checkpoint}") for gate in GATES]

quality_checks = [gx_asset_check(suite) for suite in [*GATES, *DATA_QUALITY]]


BLOCKING_CHECK_ERROR = "DagsterAssetCheckFailedError"
"""The error Dagster raises in a step whose blocking check failed with ERROR severity."""


def failed_on_a_gate(step_failure: DagsterEvent) -> bool:
    """Did this step fail because a blocking gate failed (as opposed to an error)?"""
    return step_failure.step_failure_data.error.cls_name == BLOCKING_CHECK_ERROR
