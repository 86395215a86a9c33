"""Expectation suites (in expectations/) that guard the reconciliation marts."""

from dagster import AssetCheckSeverity, AssetKey

from pipelines.lib.gx_checks import gx_asset_check

unbilled_approved_time_gate = gx_asset_check(
    checkpoint="unbilled_approved_time",
    asset_key=AssetKey(["reconciliation", "unbilled_approved_time"]),
    table="reconciliation.unbilled_approved_time",
    description=(
        "Gate: no approved, billable time older than the grace period stays unbilled. "
        "Lists the time entries to invoice."
    ),
    severity=AssetCheckSeverity.ERROR,
)

quality_checks = [unbilled_approved_time_gate]
