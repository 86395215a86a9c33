"""Expectation suites (in expectations/) that guard the reconciliation marts."""

from dagster import AssetCheckSeverity, AssetKey

from pipelines.lib.gx_checks import gx_asset_check

# One entry per committed GX checkpoint (expectations/gx/checkpoints/<checkpoint>.json).
GATES = [
    {
        "checkpoint": "unbilled_approved_time",
        "asset_key": AssetKey(["reconciliation", "unbilled_approved_time"]),
        "table": "reconciliation.unbilled_approved_time",
        "description": (
            "Gate: no approved, billable time older than the grace period stays unbilled. "
            "Lists the time entries to invoice."
        ),
        "severity": AssetCheckSeverity.ERROR,
    },
]

CHECKPOINTS = [gate["checkpoint"] for gate in GATES]

quality_checks = [gx_asset_check(**gate) for gate in GATES]
