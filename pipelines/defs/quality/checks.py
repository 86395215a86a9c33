"""Expectation suites (in expectations/) as asset checks on the models they guard.

Gates (severity ERROR) guard the reconciliation; data-quality suites (WARN) guard the
canonical entities. Each names the SQL that lists its offenders (source record id,
currency, amount) for the check's metadata.
"""

from dagster import AssetCheckSeverity, AssetKey

from pipelines.lib.gx_checks import gx_asset_check

# One entry per committed GX checkpoint (expectations/gx/checkpoints/<checkpoint>.json).
GATES = [
    {
        "checkpoint": "unbilled_approved_time",
        "asset_key": AssetKey(["reconciliation", "unbilled_approved_time"]),
        "offenders_sql": "select source_record_id, currency, amount "
        "from reconciliation.unbilled_approved_time",
        "description": (
            "Gate: no approved, billable time older than the grace period stays unbilled. "
            "Lists the Harvest time entries to invoice."
        ),
        "severity": AssetCheckSeverity.ERROR,
    },
    {
        "checkpoint": "missing_tax_codes",
        "asset_key": AssetKey(["canonical", "invoice_lines"]),
        "offenders_sql": "select source_record_id, currency, net_amount as amount "
        "from canonical.invoice_lines where invoice_type = 'invoice' and (tax_code_id is null "
        "or abs(coalesce(tax_amount, 0) - round(net_amount * tax_rate_percent * 0.01, 2)) > 0.01)",
        "description": (
            "Gate: every customer invoice line has a tax code, and its tax is rate × net "
            "within a cent. Lists the NetSuite transaction lines to fix."
        ),
        "severity": AssetCheckSeverity.ERROR,
    },
    {
        "checkpoint": "canonical_time_entries",
        "asset_key": AssetKey(["canonical", "time_entries"]),
        "offenders_sql": "select source_record_id, currency, billable_amount as amount "
        "from canonical.time_entries where hours < 0 or hours > 24 or project_id is null "
        "or currency is null or length(currency) <> 3 or spent_date > current_date",
        "description": "Data quality: keys, hours between 0 and 24, ISO currencies, dates.",
        "severity": AssetCheckSeverity.WARN,
    },
    {
        "checkpoint": "canonical_invoices",
        "asset_key": AssetKey(["canonical", "invoices"]),
        "offenders_sql": "select i.source_record_id, i.currency, i.net_amount as amount "
        "from canonical.invoices as i left join (select invoice_id, sum(net_amount) as n "
        "from canonical.invoice_lines group by invoice_id) as l on l.invoice_id = i.invoice_id "
        "where abs(coalesce(i.net_amount, 0) - coalesce(l.n, 0)) > 0.01",
        "description": "Data quality: keys, ISO currencies, net amounts equal to their lines.",
        "severity": AssetCheckSeverity.WARN,
    },
]

CHECKPOINTS = [gate["checkpoint"] for gate in GATES]

quality_checks = [gx_asset_check(**gate) for gate in GATES]
