"""What the month-end report shows, read from the `reconciliation` and `canonical` marts.

Each section is a list of tables (one sheet each in the workbook) and, where a picture helps, a
chart. The SQL here only selects, filters to the report's period, orders and adds up what a mart
already decided: every rule (what is unbilled, what is material, how a bucket is aged) is a dbt
model's, so the report and an analyst's query of the marts never disagree.

Exceptions are as at the report's period: those of the period and every earlier one that are
still open on the as-of date (a record to fix does not disappear because its month passed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

MARTS = (
    "canonical.legal_entities",
    "canonical.periods",
    "reconciliation.exceptions",
    "reconciliation.invoice_rate_variance",
    "reconciliation.kpi_cycle_times",
    "reconciliation.kpi_exception_aging",
    "reconciliation.kpi_sync_latency",
    "reconciliation.missing_tax_codes",
    "reconciliation.month_end_variance",
    "reconciliation.reporting_drift",
    "reconciliation.unbilled_approved_time",
)
"""Every table the report reads (the report asset's upstream in the lineage)."""

MONEY = "money"
"""An amount in the currency named by the column ``Column.currency`` points at."""
KINDS = (
    MONEY,
    "text",
    "id",
    "quantity",
    "count",
    "decimal",
    "percent",
    "date",
    "timestamp",
    "flag",
)


class ReportError(Exception):
    """The report cannot be written for a reason the person asking for it can act on."""


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"
    currency: int | None = None
    """For money: the index of the column holding this amount's ISO currency code."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")
        if (self.kind == MONEY) != (self.currency is not None):
            raise ValueError(f"{self.header}: an amount needs its currency column, and only it")


@dataclass(frozen=True)
class Chart:
    """Horizontal bars: one group per category, one bar per series; ``markers`` draws a
    ± threshold per category (the materiality threshold)."""

    title: str
    unit: str
    categories: list[str]
    series: list[str]
    values: list[list[Decimal | int]]
    markers: list[Decimal] | None = None
    marker_label: str = ""


@dataclass(frozen=True)
class Table:
    sheet: str
    """The workbook sheet's name (at most 31 characters, Excel's limit)."""
    columns: tuple[Column, ...]
    rows: list[tuple]
    caption: str = ""
    highlight: int | None = None
    """The index of a boolean column whose true rows are highlighted (e.g. material)."""
    html_limit: int | None = None
    """Show at most this many rows in the HTML (the workbook has them all)."""
    chart: Chart | None = None
    """Drawn under the table in the HTML."""

    def __post_init__(self) -> None:
        if len(self.sheet) > 31:
            raise ValueError(f"sheet name {self.sheet!r} is longer than Excel's 31 characters")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"{self.sheet}: a row has {len(row)} cells, not {len(self.columns)}"
                )


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    tables: list[Table]


@dataclass(frozen=True)
class Report:
    period: str
    period_name: str
    is_period_closed: bool
    as_of: str
    reporting_currency: str
    sections: list[Section]


def _all(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def load_report(con: duckdb.DuckDBPyConnection, period: str, as_of: str) -> Report:
    """Every section of the report of ``period`` (``YYYY-MM``), from the marts."""
    known = _all(con, "select fiscal_month, period_name, is_closed from canonical.periods")
    by_month = {month: (name, closed) for month, name, closed in known}
    if period not in by_month:
        months = sorted(by_month)
        span = f"{months[0]} to {months[-1]}" if months else "none"
        raise ReportError(f"{period} is not an accounting period of the ERP (known: {span})")
    name, closed = by_month[period]
    (reporting_currency,) = con.execute(
        "select any_value(reporting_currency) from canonical.legal_entities"
    ).fetchone()
    p = [period]
    sections = [
        _headline(con, p, reporting_currency),
        _flow(con, p),
        _variances(con, p),
        _unbilled(con, p),
        _missing_tax_codes(con, p),
        _rate_variances(con, p),
        _reporting_drift(con, p),
        _exception_aging(con, reporting_currency, as_of),
        _sync_latency(con),
        _drill_down(con, p),
    ]
    return Report(period, name, bool(closed), as_of, reporting_currency, sections)


def _headline(con: duckdb.DuckDBPyConnection, p: list, reporting: str) -> Section:
    ((currency, booked, delivered, billed, collected, material),) = _all(
        con,
        """
        select any_value(reporting_currency), sum(booked_reporting), sum(delivered_reporting),
               sum(billed_reporting), sum(collected_reporting), count(*) filter (where is_material)
        from reconciliation.month_end_variance where period = ?
        """,
        p,
    )
    stages = [
        ("Booked (won deals)", booked),
        ("Delivered (to invoice)", delivered),
        ("Billed (net invoices)", billed),
        ("Collected (payments)", collected),
    ]
    flow = [(label, currency, amount, None) for label, amount in stages if currency is not None]
    flow.append(("Material billing gaps", None, None, material))
    exceptions = _all(
        con,
        """
        select 'Unbilled approved time (entries)', ?, coalesce(sum(amount_reporting), 0), count(*)
        from reconciliation.unbilled_approved_time where period <= ?
        union all
        select 'Open exceptions to fix', ?, coalesce(sum(amount_reporting), 0), count(*)
        from reconciliation.exceptions where status = 'open' and period <= ?
        """,
        [reporting, p[0], reporting, p[0]],
    )
    kpis = _all(
        con,
        """
        select legal_entity, won_deal_count, closed_won_to_project_days, invoice_count,
               approval_to_invoice_days, time_to_invoice_days, paid_invoice_count,
               invoice_to_payment_days, dso_days, realization_pct,
               functional_currency, receivables_at_end
        from reconciliation.kpi_cycle_times where period = ?
        order by legal_entity_id
        """,
        p,
    )
    return Section(
        "headline",
        "Headline",
        "The month in the group's reporting currency, and each legal entity's cycle times "
        "(reconciliation.month_end_variance, kpi_cycle_times, exceptions).",
        [
            Table(
                "Headline",
                (
                    Column("Measure"),
                    Column("Currency"),
                    Column("Amount", MONEY, currency=1),
                    Column("Count", "count"),
                ),
                flow + exceptions,
            ),
            Table(
                "KPIs by entity",
                (
                    Column("Legal entity"),
                    Column("Deals won", "count"),
                    Column("Won → project (days)", "decimal"),
                    Column("Invoices", "count"),
                    Column("Month end → invoice (days)", "decimal"),
                    Column("Time → invoice (days)", "decimal"),
                    Column("Invoices paid", "count"),
                    Column("Invoice → payment (days)", "decimal"),
                    Column("DSO (days)", "decimal"),
                    Column("Realization (%)", "percent"),
                    Column("Functional currency"),
                    Column("Receivables at month end", MONEY, currency=10),
                ),
                kpis,
                caption="Cycle times of the period by legal entity",
            ),
        ],
    )


def _flow(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select legal_entity,
               functional_currency, sum(booked_functional), sum(delivered_functional),
               sum(billed_functional), sum(collected_functional),
               reporting_currency, sum(booked_reporting), sum(delivered_reporting),
               sum(billed_reporting), sum(collected_reporting)
        from reconciliation.month_end_variance
        where period = ?
        group by legal_entity_id, legal_entity, functional_currency, reporting_currency
        order by legal_entity_id
        """,
        p,
    )
    reporting = rows[0][6] if rows else ""
    return Section(
        "flow",
        "Booked → delivered → billed → collected",
        "Per legal entity, in its functional currency and in the reporting currency: deals won "
        "in the month, what the month's delivery should invoice, net invoices posted, payments "
        "received (reconciliation.month_end_variance).",
        [
            Table(
                "Flow by entity",
                (
                    Column("Legal entity"),
                    Column("Functional currency"),
                    Column("Booked", MONEY, currency=1),
                    Column("Delivered", MONEY, currency=1),
                    Column("Billed", MONEY, currency=1),
                    Column("Collected", MONEY, currency=1),
                    Column("Reporting currency"),
                    Column("Booked (reporting)", MONEY, currency=6),
                    Column("Delivered (reporting)", MONEY, currency=6),
                    Column("Billed (reporting)", MONEY, currency=6),
                    Column("Collected (reporting)", MONEY, currency=6),
                ),
                rows,
                chart=Chart(
                    f"Quote to cash by legal entity ({reporting})",
                    reporting,
                    [r[0] for r in rows],
                    ["Booked", "Delivered", "Billed", "Collected"],
                    [list(r[7:11]) for r in rows],
                )
                if rows
                else None,
            )
        ],
    )


def _variances(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select legal_entity, currency,
               delivered_minus_booked, billing_gap, collection_gap,
               booked_mom_change, delivered_mom_change, billed_mom_change, collected_mom_change,
               reporting_currency, billing_gap_reporting, materiality_threshold_reporting,
               is_material
        from reconciliation.month_end_variance
        where period = ?
        order by is_material desc, abs(billing_gap_reporting) desc, legal_entity_id, currency
        """,
        p,
    )
    trend = _all(
        con,
        """
        select period, reporting_currency, sum(booked_reporting), sum(delivered_reporting),
               sum(billed_reporting), sum(collected_reporting), sum(billing_gap_reporting),
               count(*) filter (where is_material)
        from reconciliation.month_end_variance
        where period in (
            select fiscal_month from canonical.periods
            where fiscal_month <= ? order by start_date desc limit 6
        )
        group by period, reporting_currency
        order by period
        """,
        p,
    )
    reporting = rows[0][9] if rows else ""
    return Section(
        "variances",
        "Variances and month-over-month change",
        "Per legal entity and transaction currency: delivered − booked, the billing gap "
        "(delivered − billed; positive is under-billed), the collection gap (billed with tax − "
        "collected) and the change of each stage against the month before. A billing gap beyond "
        "the materiality threshold (in the reporting currency; dbt vars materiality_pct and "
        "materiality_abs) is material; material rows are highlighted.",
        [
            Table(
                "Variances",
                (
                    Column("Legal entity"),
                    Column("Currency"),
                    Column("Delivered − booked", MONEY, currency=1),
                    Column("Billing gap", MONEY, currency=1),
                    Column("Collection gap", MONEY, currency=1),
                    Column("Booked MoM", MONEY, currency=1),
                    Column("Delivered MoM", MONEY, currency=1),
                    Column("Billed MoM", MONEY, currency=1),
                    Column("Collected MoM", MONEY, currency=1),
                    Column("Reporting currency"),
                    Column("Billing gap (reporting)", MONEY, currency=9),
                    Column("Materiality threshold", MONEY, currency=9),
                    Column("Material", "flag"),
                ),
                rows,
                highlight=12,
                chart=Chart(
                    f"Billing gap against the materiality threshold ({reporting})",
                    reporting,
                    [f"{r[0]} · {r[1]}" for r in rows],
                    ["Billing gap"],
                    [[r[10]] for r in rows],
                    markers=[r[11] for r in rows],
                    marker_label="materiality threshold (±)",
                )
                if rows
                else None,
            ),
            Table(
                "Six months",
                (
                    Column("Period"),
                    Column("Reporting currency"),
                    Column("Booked", MONEY, currency=1),
                    Column("Delivered", MONEY, currency=1),
                    Column("Billed", MONEY, currency=1),
                    Column("Collected", MONEY, currency=1),
                    Column("Net billing gap", MONEY, currency=1),
                    Column("Material gaps", "count"),
                ),
                trend,
                caption="The six months to this period, all legal entities, reporting currency",
                chart=Chart(
                    f"Delivered, billed and collected by month ({reporting})",
                    reporting,
                    [r[0] for r in trend],
                    ["Delivered", "Billed", "Collected"],
                    [list(r[3:6]) for r in trend],
                )
                if trend
                else None,
            ),
        ],
    )


def _unbilled(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    buckets = _all(
        con,
        """
        select aging_bucket, currency, count(*), sum(hours), sum(amount),
               reporting_currency, sum(amount_reporting)
        from reconciliation.unbilled_approved_time
        where period <= ?
        group by all
        order by min(age_days), currency
        """,
        p,
    )
    projects = _all(
        con,
        """
        select project_id, legal_entity, count(*), sum(hours), currency, sum(amount),
               reporting_currency, sum(amount_reporting), max(age_days),
               min(source_record_id)
        from reconciliation.unbilled_approved_time
        where period <= ?
        group by project_id, legal_entity, currency, reporting_currency
        order by sum(amount_reporting) desc, project_id
        limit 10
        """,
        p,
    )
    # The chart: every bucket's reporting-currency total, across transaction currencies.
    by_bucket: dict[str, Decimal] = {}
    for bucket, *_, amount_reporting in buckets:
        by_bucket[bucket] = by_bucket.get(bucket, Decimal(0)) + amount_reporting
    reporting = buckets[0][5] if buckets else ""
    return Section(
        "unbilled",
        "Unbilled approved time",
        "Approved, billable time on time-and-materials projects that no invoice has billed, "
        "in months that ended more than the grace period (dbt var grace_days) before the as-of date "
        "(reconciliation.unbilled_approved_time), aged from the day worked. Every entry is listed "
        "with its Harvest time entry id under Drill-down.",
        [
            Table(
                "Unbilled time by age",
                (
                    Column("Aging bucket (days)"),
                    Column("Currency"),
                    Column("Entries", "count"),
                    Column("Hours", "quantity"),
                    Column("Amount", MONEY, currency=1),
                    Column("Reporting currency"),
                    Column("Amount (reporting)", MONEY, currency=5),
                ),
                buckets,
                caption="By aging bucket",
                chart=Chart(
                    f"Unbilled approved time by age ({reporting})",
                    reporting,
                    [f"{bucket} days" for bucket in by_bucket],
                    ["Amount"],
                    [[amount] for amount in by_bucket.values()],
                )
                if buckets
                else None,
            ),
            Table(
                "Unbilled time top projects",
                (
                    Column("Harvest project id", "id"),
                    Column("Legal entity"),
                    Column("Entries", "count"),
                    Column("Hours", "quantity"),
                    Column("Currency"),
                    Column("Amount", MONEY, currency=4),
                    Column("Reporting currency"),
                    Column("Amount (reporting)", MONEY, currency=6),
                    Column("Oldest (days)", "count"),
                    Column("e.g. time entry id", "id"),
                ),
                projects,
                caption="The ten projects holding the most unbilled time",
            ),
        ],
    )


def _missing_tax_codes(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select source_record_id, invoice_number, line_number, item_code, invoice_date, period,
               legal_entity, currency, amount, reporting_currency, amount_reporting, details
        from reconciliation.missing_tax_codes
        where period <= ?
        order by amount_reporting desc, source_record_id
        """,
        p,
    )
    return Section(
        "missing-tax-codes",
        "Missing tax codes",
        "Customer invoice lines posted without a tax code (reconciliation.missing_tax_codes); "
        "the amount is the untaxed net. Fix each in NetSuite by its line id.",
        [
            Table(
                "Missing tax codes",
                (
                    Column("NetSuite line id", "id"),
                    Column("Invoice"),
                    Column("Line", "count"),
                    Column("Item"),
                    Column("Invoice date", "date"),
                    Column("Period"),
                    Column("Legal entity"),
                    Column("Currency"),
                    Column("Net amount", MONEY, currency=7),
                    Column("Reporting currency"),
                    Column("Net amount (reporting)", MONEY, currency=9),
                    Column("Details"),
                ),
                rows,
            )
        ],
    )


def _rate_variances(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select source_record_id, invoice_number, line_number, item_code, opportunity_id,
               opportunity_line_item_id, invoice_date, period, legal_entity, quantity,
               currency, rate, contracted_rate, amount, reporting_currency, amount_reporting
        from reconciliation.invoice_rate_variance
        where period <= ?
        order by abs(amount_reporting) desc, source_record_id
        """,
        p,
    )
    return Section(
        "rate-variances",
        "Invoice rate variances",
        "Invoice lines billed at another rate than the deal's contracted rate for the role "
        "(reconciliation.invoice_rate_variance); the variance is quantity × (rate − contracted), "
        "positive when over-billed.",
        [
            Table(
                "Invoice rate variances",
                (
                    Column("NetSuite line id", "id"),
                    Column("Invoice"),
                    Column("Line", "count"),
                    Column("Item"),
                    Column("Salesforce opportunity id", "id"),
                    Column("Opportunity line item id", "id"),
                    Column("Invoice date", "date"),
                    Column("Period"),
                    Column("Legal entity"),
                    Column("Quantity", "quantity"),
                    Column("Currency"),
                    Column("Rate", MONEY, currency=10),
                    Column("Contracted rate", MONEY, currency=10),
                    Column("Variance", MONEY, currency=10),
                    Column("Reporting currency"),
                    Column("Variance (reporting)", MONEY, currency=14),
                ),
                rows,
            )
        ],
    )


def _reporting_drift(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select source_record_id, period, legal_entity, reason, is_contract_reason,
               record_count, first_changed_at at time zone 'UTC', currency, amount,
               reporting_currency, amount_reporting, details
        from reconciliation.reporting_drift
        where is_period_closed and period <= ?
        order by period desc, legal_entity_id, reason
        """,
        p,
    )
    return Section(
        "reporting-drift",
        "Reporting drift since close",
        "Closed periods whose figures moved or disagree (reconciliation.reporting_drift): PSA "
        "billed vs ERP invoiced beyond tolerance, records changed after the close, and figures "
        "that differ from those frozen at close. Contract reasons raise exceptions; the others "
        "are shown for review. Amounts in the entity's functional currency.",
        [
            Table(
                "Reporting drift",
                (
                    Column("Period | entity id", "id"),
                    Column("Period"),
                    Column("Legal entity"),
                    Column("Reason"),
                    Column("Raises an exception", "flag"),
                    Column("Records", "count"),
                    Column("First changed (UTC)", "timestamp"),
                    Column("Currency"),
                    Column("Amount", MONEY, currency=7),
                    Column("Reporting currency"),
                    Column("Amount (reporting)", MONEY, currency=9),
                    Column("Details"),
                ),
                rows,
                highlight=4,
            )
        ],
    )


def _exception_aging(con: duckdb.DuckDBPyConnection, reporting: str, as_of: str) -> Section:
    rows = _all(
        con,
        """
        select exception_type, aging_bucket, exception_count, ?, amount_reporting,
               avg_age_days, max_age_days
        from reconciliation.kpi_exception_aging
        where status = 'open'
        order by exception_type, max_age_days
        """,
        [reporting],
    )
    types = sorted({r[0] for r in rows})
    oldest: dict[str, int] = {}
    for _, bucket, *_, max_age in rows:
        oldest[bucket] = min(oldest.get(bucket, max_age), max_age)
    buckets = sorted(oldest, key=oldest.get)
    counts = {(r[0], r[1]): r[2] for r in rows}
    return Section(
        "exception-aging",
        "Exception aging by type",
        f"Every open exception as of {as_of}, whatever its period, by type and age "
        "(reconciliation.kpi_exception_aging).",
        [
            Table(
                "Exception aging",
                (
                    Column("Exception type"),
                    Column("Aging bucket (days)"),
                    Column("Open", "count"),
                    Column("Reporting currency"),
                    Column("Amount (reporting)", MONEY, currency=3),
                    Column("Average age (days)", "decimal"),
                    Column("Oldest (days)", "count"),
                ),
                rows,
                chart=Chart(
                    "Open exceptions by type and age (count)",
                    "",
                    types,
                    [f"{b} days" for b in buckets],
                    [[counts.get((t, b), 0) for b in buckets] for t in types],
                )
                if rows
                else None,
            )
        ],
    )


def _sync_latency(con: duckdb.DuckDBPyConnection) -> Section:
    rows = _all(
        con,
        """
        select source_system, resource, last_loaded_at at time zone 'UTC', load_count,
               record_count, last_source_change_at at time zone 'UTC', synced_change_count,
               median_latency_seconds, max_latency_seconds
        from reconciliation.kpi_sync_latency
        order by source_system, resource
        """,
    )
    return Section(
        "sync-latency",
        "Sync latency per source",
        "When the warehouse last loaded each source resource and how long changes waited "
        "between the source system and the warehouse (reconciliation.kpi_sync_latency); "
        "latency is empty until a second, incremental load.",
        [
            Table(
                "Sync latency",
                (
                    Column("Source system"),
                    Column("Resource"),
                    Column("Last loaded (UTC)", "timestamp"),
                    Column("Loads", "count"),
                    Column("Records", "count"),
                    Column("Last source change (UTC)", "timestamp"),
                    Column("Changes synced", "count"),
                    Column("Median latency (s)", "decimal"),
                    Column("Max latency (s)", "count"),
                ),
                rows,
            )
        ],
    )


def _drill_down(con: duckdb.DuckDBPyConnection, p: list) -> Section:
    rows = _all(
        con,
        """
        select exception_type, source_system, source_record_id, legal_entity, period,
               occurred_on, currency, amount, reporting_currency, amount_reporting, age_days,
               aging_bucket, details
        from reconciliation.exceptions
        where status = 'open' and period <= ?
        order by exception_type, amount_reporting desc, source_record_id
        """,
        p,
    )
    return Section(
        "drill-down",
        "Drill-down: every open exception",
        "One row per open exception of this period or earlier (reconciliation.exceptions), "
        "with the id of the record to open in its source system (crm: Salesforce, psa: Harvest, "
        "erp: NetSuite; warehouse: a period and legal entity).",
        [
            Table(
                "Open exceptions",
                (
                    Column("Exception type"),
                    Column("Source system"),
                    Column("Source record id", "id"),
                    Column("Legal entity"),
                    Column("Period"),
                    Column("Occurred on", "date"),
                    Column("Currency"),
                    Column("Amount", MONEY, currency=6),
                    Column("Reporting currency"),
                    Column("Amount (reporting)", MONEY, currency=8),
                    Column("Age (days)", "count"),
                    Column("Aging bucket"),
                    Column("Details"),
                ),
                rows,
                html_limit=300,
            )
        ],
    )
