"""What the month-end report shows: which `reports` model each table reads, and how its columns
are headed and formatted.

Every figure is a dbt model's (dbt_project/models/reports): what is added up, which periods count
as at the report's period, the six months, the top ten and the order of the rows. Here a table is
only ``select <columns> from reports.<model> [where report_period = ?] order by row_order``, and a
chart only reshapes the rows it is drawn from, so the report and an analyst's query of the marts
never disagree.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import duckdb

SCHEMA = "reports"
PERIODS = "report_periods"
"""The months a report can be written for, with their name, state and reporting currency."""
EXCEPTION_COUNTS = "report_open_exceptions_by_type"
"""Open exceptions as at a period by type (the report asset's metadata)."""

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
    name: str
    """The model's column."""
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


# What the report is made of: each table and chart names its model and the columns it shows.


@dataclass(frozen=True)
class Bars:
    """A chart with one bar group per row of ``model`` (the table's own when None), labelled
    ``category`` (a format of the row's columns), one bar per ``series`` (legend, column) and, with
    ``marker``, a ± threshold from that column. ``title`` and ``unit`` are formats of the first
    row. Drawn when the model has rows for the period."""

    title: str
    category: str
    series: tuple[tuple[str, str], ...]
    unit: str = ""
    marker: str | None = None
    marker_label: str = ""
    model: str | None = None

    def columns(self) -> list[str]:
        """The columns it draws and those its formats name."""
        drawn = [c for _, c in self.series] + ([self.marker] if self.marker else [])
        return list(dict.fromkeys(_fields(self.title, self.unit, self.category) + drawn))

    def draw(self, rows: list[dict]) -> Chart:
        first = rows[0]
        return Chart(
            self.title.format(**first),
            self.unit.format(**first),
            [self.category.format(**row) for row in rows],
            [legend for legend, _ in self.series],
            [[row[column] for _, column in self.series] for row in rows],
            markers=[row[self.marker] for row in rows] if self.marker else None,
            marker_label=self.marker_label,
        )


@dataclass(frozen=True)
class Grid:
    """A chart from a grid ``model`` holding one row per category and series (every pair, in
    the order to draw them): one bar group per ``category`` column value, one bar per ``series``
    (a format of the row), the bar's length from ``value``."""

    title: str
    model: str
    category: str
    series: str
    value: str

    def columns(self) -> list[str]:
        """The columns it draws and those its formats name."""
        return list(dict.fromkeys([self.category, *_fields(self.title, self.series), self.value]))

    def draw(self, rows: list[dict]) -> Chart:
        categories = list(dict.fromkeys(row[self.category] for row in rows))
        series = list(dict.fromkeys(self.series.format(**row) for row in rows))
        values = [row[self.value] for row in rows]
        if len(values) != len(categories) * len(series):
            raise ValueError(f"{self.model}: not one row per category and series")
        width = len(series)
        return Chart(
            self.title,
            "",
            categories,
            series,
            [values[i * width : (i + 1) * width] for i in range(len(categories))],
        )


@dataclass(frozen=True)
class TableSpec:
    sheet: str
    model: str
    columns: tuple[Column, ...]
    caption: str = ""
    highlight: str | None = None
    """The model's boolean column whose true rows are highlighted."""
    html_limit: int | None = None
    chart: Bars | Grid | None = None
    per_period: bool = True
    """The model holds rows per ``report_period``; otherwise it is the warehouse as it is."""


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    intro: str
    """May name ``{as_of}``."""
    tables: tuple[TableSpec, ...]


SECTIONS = (
    SectionSpec(
        "headline",
        "Headline",
        "The month in the group's reporting currency, and each legal entity's cycle times "
        "(reconciliation.month_end_variance, kpi_cycle_times, exceptions).",
        (
            TableSpec(
                "Headline",
                "report_headline",
                (
                    Column("measure", "Measure"),
                    Column("currency", "Currency"),
                    Column("amount", "Amount", MONEY, currency=1),
                    Column("record_count", "Count", "count"),
                ),
            ),
            TableSpec(
                "KPIs by entity",
                "report_kpis_by_entity",
                (
                    Column("legal_entity", "Legal entity"),
                    Column("won_deal_count", "Deals won", "count"),
                    Column("closed_won_to_project_days", "Won → project (days)", "decimal"),
                    Column("invoice_count", "Invoices", "count"),
                    Column("approval_to_invoice_days", "Month end → invoice (days)", "decimal"),
                    Column("time_to_invoice_days", "Time → invoice (days)", "decimal"),
                    Column("paid_invoice_count", "Invoices paid", "count"),
                    Column("invoice_to_payment_days", "Invoice → payment (days)", "decimal"),
                    Column("dso_days", "DSO (days)", "decimal"),
                    Column("realization_pct", "Realization (%)", "percent"),
                    Column("functional_currency", "Functional currency"),
                    Column("receivables_at_end", "Receivables at month end", MONEY, currency=10),
                ),
                caption="Cycle times of the period by legal entity",
            ),
        ),
    ),
    SectionSpec(
        "flow",
        "Booked → delivered → billed → collected",
        "Per legal entity, in its functional currency and in the reporting currency: deals won "
        "in the month, what the month's delivery should invoice, net invoices posted, payments "
        "received (reconciliation.month_end_variance).",
        (
            TableSpec(
                "Flow by entity",
                "report_flow_by_entity",
                (
                    Column("legal_entity", "Legal entity"),
                    Column("functional_currency", "Functional currency"),
                    Column("booked_functional", "Booked", MONEY, currency=1),
                    Column("delivered_functional", "Delivered", MONEY, currency=1),
                    Column("billed_functional", "Billed", MONEY, currency=1),
                    Column("collected_functional", "Collected", MONEY, currency=1),
                    Column("reporting_currency", "Reporting currency"),
                    Column("booked_reporting", "Booked (reporting)", MONEY, currency=6),
                    Column("delivered_reporting", "Delivered (reporting)", MONEY, currency=6),
                    Column("billed_reporting", "Billed (reporting)", MONEY, currency=6),
                    Column("collected_reporting", "Collected (reporting)", MONEY, currency=6),
                ),
                chart=Bars(
                    "Quote to cash by legal entity ({reporting_currency})",
                    "{legal_entity}",
                    (
                        ("Booked", "booked_reporting"),
                        ("Delivered", "delivered_reporting"),
                        ("Billed", "billed_reporting"),
                        ("Collected", "collected_reporting"),
                    ),
                    unit="{reporting_currency}",
                ),
            ),
        ),
    ),
    SectionSpec(
        "variances",
        "Variances and month-over-month change",
        "Per legal entity and transaction currency: delivered − booked, the billing gap "
        "(delivered − billed; positive is under-billed), the collection gap (billed with tax − "
        "collected) and the change of each stage against the month before. A billing gap beyond "
        "the materiality threshold (in the reporting currency; dbt vars materiality_pct and "
        "materiality_abs) is material; material rows are highlighted.",
        (
            TableSpec(
                "Variances",
                "report_variances",
                (
                    Column("legal_entity", "Legal entity"),
                    Column("currency", "Currency"),
                    Column("delivered_minus_booked", "Delivered − booked", MONEY, currency=1),
                    Column("billing_gap", "Billing gap", MONEY, currency=1),
                    Column("collection_gap", "Collection gap", MONEY, currency=1),
                    Column("booked_mom_change", "Booked MoM", MONEY, currency=1),
                    Column("delivered_mom_change", "Delivered MoM", MONEY, currency=1),
                    Column("billed_mom_change", "Billed MoM", MONEY, currency=1),
                    Column("collected_mom_change", "Collected MoM", MONEY, currency=1),
                    Column("reporting_currency", "Reporting currency"),
                    Column("billing_gap_reporting", "Billing gap (reporting)", MONEY, currency=9),
                    Column(
                        "materiality_threshold_reporting",
                        "Materiality threshold",
                        MONEY,
                        currency=9,
                    ),
                    Column("is_material", "Material", "flag"),
                ),
                highlight="is_material",
                chart=Bars(
                    "Billing gap against the materiality threshold ({reporting_currency})",
                    "{legal_entity} · {currency}",
                    (("Billing gap", "billing_gap_reporting"),),
                    unit="{reporting_currency}",
                    marker="materiality_threshold_reporting",
                    marker_label="materiality threshold (±)",
                ),
            ),
            TableSpec(
                "Six months",
                "report_six_months",
                (
                    Column("period", "Period"),
                    Column("reporting_currency", "Reporting currency"),
                    Column("booked_reporting", "Booked", MONEY, currency=1),
                    Column("delivered_reporting", "Delivered", MONEY, currency=1),
                    Column("billed_reporting", "Billed", MONEY, currency=1),
                    Column("collected_reporting", "Collected", MONEY, currency=1),
                    Column("billing_gap_reporting", "Net billing gap", MONEY, currency=1),
                    Column("material_gap_count", "Material gaps", "count"),
                ),
                caption="The six months to this period, all legal entities, reporting currency",
                chart=Bars(
                    "Delivered, billed and collected by month ({reporting_currency})",
                    "{period}",
                    (
                        ("Delivered", "delivered_reporting"),
                        ("Billed", "billed_reporting"),
                        ("Collected", "collected_reporting"),
                    ),
                    unit="{reporting_currency}",
                ),
            ),
        ),
    ),
    SectionSpec(
        "unbilled",
        "Unbilled approved time",
        "Approved, billable time on time-and-materials projects that no invoice has billed, "
        "in months that ended more than the grace period (dbt var grace_days) before the as-of date "
        "(reconciliation.unbilled_approved_time), aged from the day worked. Every entry is listed "
        "with its Harvest time entry id under Drill-down.",
        (
            TableSpec(
                "Unbilled time by age",
                "report_unbilled_by_age",
                (
                    Column("aging_bucket", "Aging bucket (days)"),
                    Column("currency", "Currency"),
                    Column("entry_count", "Entries", "count"),
                    Column("hours", "Hours", "quantity"),
                    Column("amount", "Amount", MONEY, currency=1),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Amount (reporting)", MONEY, currency=5),
                ),
                caption="By aging bucket",
                chart=Bars(
                    "Unbilled approved time by age ({reporting_currency})",
                    "{aging_bucket} days",
                    (("Amount", "amount_reporting"),),
                    unit="{reporting_currency}",
                    model="report_unbilled_by_age_total",
                ),
            ),
            TableSpec(
                "Unbilled time top projects",
                "report_unbilled_top_projects",
                (
                    Column("project_id", "Harvest project id", "id"),
                    Column("legal_entity", "Legal entity"),
                    Column("entry_count", "Entries", "count"),
                    Column("hours", "Hours", "quantity"),
                    Column("currency", "Currency"),
                    Column("amount", "Amount", MONEY, currency=4),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Amount (reporting)", MONEY, currency=6),
                    Column("oldest_age_days", "Oldest (days)", "count"),
                    Column("example_source_record_id", "e.g. time entry id", "id"),
                ),
                caption="The ten projects holding the most unbilled time",
            ),
        ),
    ),
    SectionSpec(
        "missing-tax-codes",
        "Missing tax codes",
        "Customer invoice lines posted without a tax code (reconciliation.missing_tax_codes); "
        "the amount is the untaxed net. Fix each in NetSuite by its line id.",
        (
            TableSpec(
                "Missing tax codes",
                "report_missing_tax_codes",
                (
                    Column("source_record_id", "NetSuite line id", "id"),
                    Column("invoice_number", "Invoice"),
                    Column("line_number", "Line", "count"),
                    Column("item_code", "Item"),
                    Column("invoice_date", "Invoice date", "date"),
                    Column("period", "Period"),
                    Column("legal_entity", "Legal entity"),
                    Column("currency", "Currency"),
                    Column("amount", "Net amount", MONEY, currency=7),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Net amount (reporting)", MONEY, currency=9),
                    Column("details", "Details"),
                ),
            ),
        ),
    ),
    SectionSpec(
        "rate-variances",
        "Invoice rate variances",
        "Invoice lines billed at another rate than the deal's contracted rate for the role "
        "(reconciliation.invoice_rate_variance); the variance is quantity × (rate − contracted), "
        "positive when over-billed.",
        (
            TableSpec(
                "Invoice rate variances",
                "report_rate_variances",
                (
                    Column("source_record_id", "NetSuite line id", "id"),
                    Column("invoice_number", "Invoice"),
                    Column("line_number", "Line", "count"),
                    Column("item_code", "Item"),
                    Column("opportunity_id", "Salesforce opportunity id", "id"),
                    Column("opportunity_line_item_id", "Opportunity line item id", "id"),
                    Column("invoice_date", "Invoice date", "date"),
                    Column("period", "Period"),
                    Column("legal_entity", "Legal entity"),
                    Column("quantity", "Quantity", "quantity"),
                    Column("currency", "Currency"),
                    Column("rate", "Rate", MONEY, currency=10),
                    Column("contracted_rate", "Contracted rate", MONEY, currency=10),
                    Column("amount", "Variance", MONEY, currency=10),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Variance (reporting)", MONEY, currency=14),
                ),
            ),
        ),
    ),
    SectionSpec(
        "reporting-drift",
        "Reporting drift since close",
        "Closed periods whose figures moved or disagree (reconciliation.reporting_drift): PSA "
        "billed vs ERP invoiced beyond tolerance, records changed after the close, and figures "
        "that differ from those frozen at close. Contract reasons raise exceptions; the others "
        "are shown for review. Amounts in the entity's functional currency.",
        (
            TableSpec(
                "Reporting drift",
                "report_reporting_drift",
                (
                    Column("source_record_id", "Period | entity id", "id"),
                    Column("period", "Period"),
                    Column("legal_entity", "Legal entity"),
                    Column("reason", "Reason"),
                    Column("is_contract_reason", "Raises an exception", "flag"),
                    Column("record_count", "Records", "count"),
                    Column("first_changed_at_utc", "First changed (UTC)", "timestamp"),
                    Column("currency", "Currency"),
                    Column("amount", "Amount", MONEY, currency=7),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Amount (reporting)", MONEY, currency=9),
                    Column("details", "Details"),
                ),
                highlight="is_contract_reason",
            ),
        ),
    ),
    SectionSpec(
        "exception-aging",
        "Exception aging by type",
        "Every open exception as of {as_of}, whatever its period, by type and age "
        "(reconciliation.kpi_exception_aging).",
        (
            TableSpec(
                "Exception aging",
                "report_exception_aging",
                (
                    Column("exception_type", "Exception type"),
                    Column("aging_bucket", "Aging bucket (days)"),
                    Column("exception_count", "Open", "count"),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Amount (reporting)", MONEY, currency=3),
                    Column("avg_age_days", "Average age (days)", "decimal"),
                    Column("max_age_days", "Oldest (days)", "count"),
                ),
                chart=Grid(
                    "Open exceptions by type and age (count)",
                    "report_exception_aging_grid",
                    category="exception_type",
                    series="{aging_bucket} days",
                    value="exception_count",
                ),
                per_period=False,
            ),
        ),
    ),
    SectionSpec(
        "sync-latency",
        "Sync latency per source",
        "When the warehouse last loaded each source resource and how long changes waited "
        "between the source system and the warehouse (reconciliation.kpi_sync_latency); "
        "latency is empty until a second, incremental load. Then what the syncs refused: the "
        "records the last load of each source quarantined, and those held whose parent is "
        "missing (they still count; fix the parent in its source).",
        (
            TableSpec(
                "Sync latency",
                "report_sync_latency",
                (
                    Column("source_system", "Source system"),
                    Column("resource", "Resource"),
                    Column("last_loaded_at_utc", "Last loaded (UTC)", "timestamp"),
                    Column("load_count", "Loads", "count"),
                    Column("record_count", "Records", "count"),
                    Column("last_source_change_at_utc", "Last source change (UTC)", "timestamp"),
                    Column("synced_change_count", "Changes synced", "count"),
                    Column("median_latency_seconds", "Median latency (s)", "decimal"),
                    Column("max_latency_seconds", "Max latency (s)", "count"),
                ),
                per_period=False,
            ),
            TableSpec(
                "Refused records",
                "report_refused_records",
                (
                    Column("source_system", "Source system"),
                    Column("resource", "Resource"),
                    Column("what", "What"),
                    Column("record_count", "Records", "count"),
                    Column("example_reason", "For example"),
                ),
                caption=(
                    "Records the last load of each source refused (raw_<system>.quarantine), and "
                    "records held whose parent is missing (reconciliation.orphaned_records)"
                ),
                per_period=False,
            ),
        ),
    ),
    SectionSpec(
        "drill-down",
        "Drill-down: every open exception",
        "One row per open exception of this period or earlier (reconciliation.exceptions), "
        "with the id of the record to open in its source system (crm: Salesforce, psa: Harvest, "
        "erp: NetSuite; warehouse: a period and legal entity).",
        (
            TableSpec(
                "Open exceptions",
                "report_open_exceptions",
                (
                    Column("exception_type", "Exception type"),
                    Column("source_system", "Source system"),
                    Column("source_record_id", "Source record id", "id"),
                    Column("legal_entity", "Legal entity"),
                    Column("period", "Period"),
                    Column("occurred_on", "Occurred on", "date"),
                    Column("currency", "Currency"),
                    Column("amount", "Amount", MONEY, currency=6),
                    Column("reporting_currency", "Reporting currency"),
                    Column("amount_reporting", "Amount (reporting)", MONEY, currency=8),
                    Column("age_days", "Age (days)", "count"),
                    Column("aging_bucket", "Aging bucket"),
                    Column("details", "Details"),
                ),
                html_limit=300,
            ),
        ),
    ),
)


def _models() -> list[str]:
    models = [PERIODS, EXCEPTION_COUNTS]
    for section in SECTIONS:
        for table in section.tables:
            models.append(table.model)
            if table.chart is not None and table.chart.model:
                models.append(table.chart.model)
    return models


MARTS = tuple(sorted({f"{SCHEMA}.{model}" for model in _models()}))
"""Every table the report reads (the report asset's upstream in the lineage)."""


def read_model(
    con: duckdb.DuckDBPyConnection, model: str, columns: Sequence[str], period: str | None
) -> list[dict]:
    """``columns`` of a `reports` model's rows in their order: those of ``period`` when the
    model is per report period (``period`` given), otherwise all of them."""
    selected = ", ".join(f'"{c}"' for c in columns)
    where = "where report_period = ?" if period is not None else ""
    sql = f'select {selected} from "{SCHEMA}"."{model}" {where} order by row_order'
    try:
        rows = con.execute(sql, [period] if period is not None else []).fetchall()
    except duckdb.CatalogException as e:
        raise ReportError(
            f"the warehouse has no {SCHEMA}.{model}: build it with this version's dbt project "
            f"(`q2c run`) and write the report again ({str(e).splitlines()[0]})"
        ) from e
    return [dict(zip(columns, row, strict=True)) for row in rows]


def load_report(con: duckdb.DuckDBPyConnection, period: str, as_of: str) -> Report:
    """Every section of the report of ``period`` (``YYYY-MM``), from the `reports` models."""
    known = read_model(
        con,
        PERIODS,
        ("report_period", "period_name", "is_period_closed", "reporting_currency"),
        None,
    )
    this = [p for p in known if p["report_period"] == period]
    if not this:
        span = f"{known[0]['report_period']} to {known[-1]['report_period']}" if known else "none"
        raise ReportError(f"{period} is not an accounting period of the ERP (known: {span})")
    (month,) = this
    sections = [
        Section(
            spec.key,
            spec.title,
            spec.intro.format(as_of=as_of),
            [_table(con, table, period) for table in spec.tables],
        )
        for spec in SECTIONS
    ]
    return Report(
        period,
        month["period_name"],
        bool(month["is_period_closed"]),
        as_of,
        month["reporting_currency"],
        sections,
    )


def _table(con: duckdb.DuckDBPyConnection, spec: TableSpec, period: str) -> Table:
    names = [c.name for c in spec.columns]
    chart = spec.chart
    on_table = chart is not None and chart.model is None
    extra = [c for c in chart.columns() if c not in names] if on_table else []
    at = period if spec.per_period else None
    rows = read_model(con, spec.model, names + extra, at)
    chart_rows = (
        rows if on_table or chart is None else read_model(con, chart.model, chart.columns(), at)
    )
    return Table(
        spec.sheet,
        spec.columns,
        [tuple(row[name] for name in names) for row in rows],
        caption=spec.caption,
        highlight=names.index(spec.highlight) if spec.highlight else None,
        html_limit=spec.html_limit,
        chart=chart.draw(chart_rows) if chart is not None and chart_rows else None,
    )


def _fields(*formats: str) -> list[str]:
    """The column names a format (``"{legal_entity} · {currency}"``) takes."""
    return [name for text in formats for _, name, _, _ in string.Formatter().parse(text) if name]
