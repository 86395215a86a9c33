"""Expectation suites (in expectations/) as asset checks on the models they guard.

The three reconciliation gates are ERROR and blocking: when one fails, the month-end report
is not produced in that run, and the run says which gate stopped it. They run in the
month-end close (and whenever someone runs them from the UI), not in the 4-hourly refresh,
which would otherwise fail every few hours on exceptions finance is still working through.
The data-quality suites on the canonical entities are warnings and run in every build.
"""

from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey

from pipelines.lib.gx_checks import Suite, gx_asset_check

GATES = [
    Suite(
        checkpoint="unbilled_approved_time",
        asset_key=AssetKey(["reconciliation", "unbilled_approved_time"]),
        description=(
            "Gate: no approved, billable time older than the grace period stays unbilled "
            "(thresholds: expectations/thresholds.yml). Lists the Harvest time entries to invoice."
        ),
        severity=AssetCheckSeverity.ERROR,
        blocking=True,
    ),
    Suite(
        checkpoint="missing_tax_codes",
        asset_key=AssetKey(["reconciliation", "missing_tax_codes"]),
        description=(
            "Gate: every customer invoice line has a tax code, and its tax is rate × net "
            "within a cent. Lists the NetSuite invoice lines to fix."
        ),
        severity=AssetCheckSeverity.ERROR,
        blocking=True,
    ),
    Suite(
        checkpoint="reporting_drift",
        asset_key=AssetKey(["reconciliation", "reporting_drift"]),
        description=(
            "Gate: no closed period's figures moved since close, and PSA billed and ERP "
            "invoiced agree within tolerance. Lists the periods and legal entities "
            "('YYYY-MM|<subsidiary id>') that moved."
        ),
        severity=AssetCheckSeverity.ERROR,
        blocking=True,
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
