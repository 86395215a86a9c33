"""The month-end report as finance gets it: the HTML page read in headless Chromium and the
workbook opened with openpyxl, against warehouses built from the simulator (a clean firm for a
final report, the planted problems for a DRAFT)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.cli import main
from pipelines.defs.quality.history import failed_blocking_gates
from pipelines.defs.reports.month_end import (
    ReportFiles,
    exception_counts,
    last_closed_month,
    month_end_report,
    render_report,
)
from pipelines.defs.reports.page import render_page
from pipelines.defs.reports.sections import (
    MARTS,
    Column,
    Report,
    ReportError,
    Section,
    Table,
    load_report,
)
from pipelines.defs.reports.workbook import HEADER_ROW
from pipelines.settings import Settings, patched_environ
from tests.conftest import AS_OF
from tests.support import BuiltWarehouse, run_settings

PERIOD = last_closed_month(AS_OF)
SECTIONS = [
    "Headline",
    "Booked → delivered → billed → collected",
    "Variances and month-over-month change",
    "Unbilled approved time",
    "Missing tax codes",
    "Invoice rate variances",
    "Reporting drift since close",
    "Exception aging by type",
    "Sync latency per source",
    "Drill-down: every open exception",
]


def settings_for(build: BuiltWarehouse, data_dir: Path) -> Settings:
    """The build's warehouse, judged as of the firm's date, reports under ``data_dir``/reports."""
    return Settings.resolve(data_dir=data_dir, warehouse_path=build.warehouse, as_of=AS_OF)


def failed_gates(build: BuiltWarehouse) -> list[str]:
    """The blocking gates whose latest validation of the build failed, one line each."""
    return [o.summary() for o in failed_blocking_gates(settings_for(build, build.data_dir))]


@pytest.fixture(scope="module")
def final_report(clean_build: BuiltWarehouse, tmp_path_factory) -> ReportFiles:
    assert clean_build.result.success
    return render_report(settings_for(clean_build, tmp_path_factory.mktemp("final")), PERIOD)


@pytest.fixture(scope="module")
def draft_report(built_warehouse: BuiltWarehouse, tmp_path_factory) -> ReportFiles:
    reasons = failed_gates(built_warehouse)
    assert len(reasons) >= 2, "the planted problems fail the gates"
    reports = tmp_path_factory.mktemp("draft")
    return render_report(settings_for(built_warehouse, reports), PERIOD, draft_reasons=reasons)


def open_in_browser(browser, files: ReportFiles, screenshot: Path) -> tuple[object, list[str]]:
    """The page loaded from disk, with every URL it asked for, and its full-page screenshot."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(files.html.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(screenshot), full_page=True)
    return page, requested


def test_the_final_report_reads_in_a_browser(
    browser, final_report: ReportFiles, clean_build: BuiltWarehouse, tmp_path: Path
) -> None:
    assert final_report.html.name == f"month_end_{PERIOD}.html"
    page, requested = open_in_browser(browser, final_report, tmp_path / "final.png")
    try:
        assert (tmp_path / "final.png").stat().st_size > 50_000
        assert requested == [final_report.html.as_uri()], "the page must need nothing else"
        assert page.locator("h2").all_inner_texts() == SECTIONS
        text = page.inner_text("body")
        assert "DRAFT" not in text
        assert "Written from a build whose blocking gates passed" in text
        # the headline shows the mart's billed total for the period in the reporting currency
        ((billed,),) = clean_build.query(
            "select sum(billed_reporting) from reconciliation.month_end_variance where period = ?",
            [PERIOD],
        )
        assert f"USD {billed:,.2f}" in text
        # the flow, the variances and their six months are drawn inline (a clean firm has no
        # unbilled time and no exceptions to chart); nothing links outside the page
        assert page.locator("svg.chart").count() == 3
        assert page.locator("#drill-down").inner_text().endswith("None.")
        links = page.eval_on_selector_all("[href],[src]", "els => els.map(e => e.href || e.src)")
        assert all(link.startswith(final_report.html.as_uri() + "#") for link in links), links
    finally:
        page.close()


def test_the_draft_names_the_failed_gates_and_the_records_to_fix(
    browser, draft_report: ReportFiles, built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    assert draft_report.html.name == f"month_end_{PERIOD}.DRAFT.html"
    assert draft_report.xlsx.name == f"month_end_{PERIOD}.DRAFT.xlsx"
    page, requested = open_in_browser(browser, draft_report, tmp_path / "draft.png")
    try:
        assert all(url.startswith("file://") for url in requested), requested
        banner = page.locator(".banner")
        assert banner.is_visible()
        banner_text = banner.inner_text()
        assert "DRAFT — not for filing: blocking gates failed:" in banner_text
        for reason in failed_gates(built_warehouse):
            assert reason in banner_text
        # records to fix, by their source system's id, as the marts list them
        ((unbilled_id,),) = built_warehouse.query(
            """select source_record_id from reconciliation.unbilled_approved_time
               where period <= ? order by amount_reporting desc limit 1""",
            [PERIOD],
        )
        ((tax_line_id,),) = built_warehouse.query(
            """select source_record_id from reconciliation.missing_tax_codes
               where period <= ? order by amount_reporting desc limit 1""",
            [PERIOD],
        )
        assert page.locator("#drill-down").get_by_text(unbilled_id, exact=True).is_visible()
        assert page.locator("#missing-tax-codes").get_by_text(tax_line_id, exact=True).is_visible()
    finally:
        page.close()
    sheets = load_workbook(draft_report.xlsx).worksheets
    assert sheets[0].title == "DRAFT"
    assert "blocking gates failed" in sheets[0]["A2"].value
    listed = [
        sheets[0].cell(row=r, column=1).value
        for r in range(5, 5 + len(failed_gates(built_warehouse)))
    ]
    assert listed == failed_gates(built_warehouse)


def read_table(ws: Worksheet) -> list[dict[str, object]]:
    headers = [c.value for c in ws[HEADER_ROW]]
    return [
        dict(zip(headers, (c.value for c in row), strict=True))
        for row in ws.iter_rows(min_row=HEADER_ROW + 1)
        if row[0].value != "None."
    ]


def money_cells(ws: Worksheet, header: str) -> list:
    column = [c.value for c in ws[HEADER_ROW]].index(header) + 1
    return [ws.cell(row=r, column=column) for r in range(HEADER_ROW + 1, ws.max_row + 1)]


def as_decimal(value: object) -> Decimal:
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_workbook_totals_equal_the_marts(final_report: ReportFiles, clean_build) -> None:
    workbook = load_workbook(final_report.xlsx)
    assert workbook.sheetnames[0] == "Headline"
    flow = workbook["Flow by entity"]
    rows = read_table(flow)
    assert rows, "every legal entity has figures for the month"
    marts = clean_build.query(
        """select functional_currency, sum(booked_functional), sum(delivered_functional),
                  sum(billed_functional), sum(collected_functional)
           from reconciliation.month_end_variance where period = ? group by 1""",
        [PERIOD],
    )
    for currency, *totals in marts:
        mine = [r for r in rows if r["Functional currency"] == currency]
        for stage, total in zip(
            ("Booked", "Delivered", "Billed", "Collected"), totals, strict=True
        ):
            assert sum(as_decimal(r[stage]) for r in mine) == total, (currency, stage)
    ((reporting_billed, reporting_collected),) = clean_build.query(
        """select sum(billed_reporting), sum(collected_reporting)
           from reconciliation.month_end_variance where period = ?""",
        [PERIOD],
    )
    assert sum(as_decimal(r["Billed (reporting)"]) for r in rows) == reporting_billed
    assert sum(as_decimal(r["Collected (reporting)"]) for r in rows) == reporting_collected
    headline = {r["Measure"]: r for r in read_table(workbook["Headline"])}
    assert as_decimal(headline["Billed (net invoices)"]["Amount"]) == reporting_billed

    variances = read_table(workbook["Variances"])
    gaps = dict(
        ((entity, currency), gap)
        for entity, currency, gap in clean_build.query(
            """select legal_entity, currency, billing_gap from reconciliation.month_end_variance
               where period = ?""",
            [PERIOD],
        )
    )
    assert {
        (r["Legal entity"], r["Currency"]): as_decimal(r["Billing gap"]) for r in variances
    } == gaps


def test_workbook_sheets_are_for_finance(final_report: ReportFiles) -> None:
    for ws in load_workbook(final_report.xlsx).worksheets:
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}", ws.title
        assert ws.auto_filter.ref.startswith(f"A{HEADER_ROW}:"), ws.title
        headers = [c.value for c in ws[HEADER_ROW]]
        assert all(headers), ws.title
        for width in ws.column_dimensions.values():
            assert 4 <= width.width <= 60, ws.title
    flow = load_workbook(final_report.xlsx)["Flow by entity"]
    for header, currency_header in (
        ("Booked", "Functional currency"),
        ("Billed (reporting)", "Reporting currency"),
    ):
        currencies = money_cells(flow, currency_header)
        for cell, currency in zip(money_cells(flow, header), currencies, strict=True):
            assert isinstance(cell.value, int | float)
            assert f"[${currency.value}]" in cell.number_format


def test_the_draft_workbook_lists_every_open_exception(draft_report, built_warehouse) -> None:
    workbook = load_workbook(draft_report.xlsx)
    drill = read_table(workbook["Open exceptions"])
    marts = built_warehouse.query(
        """select currency, count(*), sum(amount) from reconciliation.exceptions
           where status = 'open' and period <= ? group by 1""",
        [PERIOD],
    )
    assert marts
    for currency, count, total in marts:
        mine = [r for r in drill if r["Currency"] == currency]
        assert len(mine) == count
        assert sum(as_decimal(r["Amount"]) for r in mine) == total
    ids = {r["NetSuite line id"] for r in read_table(workbook["Missing tax codes"])}
    expected = built_warehouse.query(
        "select source_record_id from reconciliation.missing_tax_codes where period <= ?", [PERIOD]
    )
    assert ids == {i for (i,) in expected} != set()
    unbilled = read_table(workbook["Unbilled time by age"])
    ((hours, amount),) = built_warehouse.query(
        """select sum(hours), sum(amount_reporting) from reconciliation.unbilled_approved_time
           where period <= ?""",
        [PERIOD],
    )
    assert sum(as_decimal(r["Hours"]) for r in unbilled) == hours
    assert sum(as_decimal(r["Amount (reporting)"]) for r in unbilled) == amount


def test_a_final_report_replaces_the_period_draft(clean_build, tmp_path: Path) -> None:
    settings = settings_for(clean_build, tmp_path)
    draft = render_report(settings, PERIOD, draft_reasons=["unbilled_approved_time: 1 rows"])
    assert draft.html.exists() and draft.xlsx.exists()
    final = render_report(settings, PERIOD)
    written = sorted(p.name for p in settings.reports_dir.iterdir())
    assert written == sorted([final.html.name, final.xlsx.name])


def test_an_unknown_period_is_refused_in_one_line(clean_build, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"^1999-01 is not an accounting period of the ERP"):
        render_report(settings_for(clean_build, tmp_path), "1999-01")
    assert list(tmp_path.iterdir()) == []


def test_the_report_reads_the_reports_views_of_the_build(built_warehouse) -> None:
    views = built_warehouse.query(
        """select table_schema || '.' || table_name from information_schema.tables
           where table_type = 'VIEW'"""
    )
    assert set(MARTS) <= {name for (name,) in views}
    assert all(name.startswith("reports.") for name in MARTS), "the report reads no mart itself"


def tables_of(report: Report) -> dict[str, Table]:
    return {table.sheet: table for section in report.sections for table in section.tables}


def test_an_earlier_period_shows_what_was_to_fix_as_at_it(built_warehouse) -> None:
    """The report of a month before the last lists the open exceptions and the unbilled time of
    that month and earlier, not those of the months after it."""
    # the first accounting month as at which some, not all, of today's open exceptions were
    # (some are of months before the ERP's first period: they count as at every period)
    as_at = built_warehouse.query(
        """select fiscal_month, count(exceptions.period) from canonical.periods
           left join reconciliation.exceptions
               on exceptions.status = 'open' and exceptions.period <= periods.fiscal_month
           group by 1 order by 1"""
    )
    ((total,),) = built_warehouse.query(
        "select count(*) from reconciliation.exceptions where status = 'open' and period <= ?",
        [PERIOD],
    )
    earlier = next(month for month, count in as_at if 0 < count < total)
    with duckdb.connect(str(built_warehouse.warehouse), read_only=True) as con:
        tables = tables_of(load_report(con, earlier, AS_OF.isoformat()))
    drill = tables["Open exceptions"]
    expected = built_warehouse.query(
        """select exception_type, source_record_id from reconciliation.exceptions
           where status = 'open' and period <= ?""",
        [earlier],
    )
    assert sorted((r[0], r[2]) for r in drill.rows) == sorted(expected)
    assert 0 < len(drill.rows) < total
    headline = {r[0]: r for r in tables["Headline"].rows}
    assert headline["Open exceptions to fix"][3] == len(drill.rows)
    ((entries, amount),) = built_warehouse.query(
        """select count(*), coalesce(sum(amount_reporting), 0)
           from reconciliation.unbilled_approved_time where period <= ?""",
        [earlier],
    )
    assert headline["Unbilled approved time (entries)"][2:] == (amount, entries)
    assert sum(r[6] for r in tables["Unbilled time by age"].rows) == amount


def test_the_asset_counts_open_exceptions_as_at_the_period(built_warehouse, tmp_path) -> None:
    counts = exception_counts(settings_for(built_warehouse, tmp_path), PERIOD)
    expected = built_warehouse.query(
        """select exception_type, count(*) from reconciliation.exceptions
           where status = 'open' and period <= ? group by 1""",
        [PERIOD],
    )
    assert counts == dict(expected) != {}


def test_the_page_escapes_what_the_warehouse_holds_and_cuts_long_tables() -> None:
    hostile = '<img src="https://example.com/x.png">'
    table = Table(
        "Open exceptions",
        (Column("details", "Details"), Column("source_record_id", "Source record id", "id")),
        [(hostile, "A&B"), ("second", "2"), ("third", "3")],
        html_limit=2,
    )
    section = Section("drill-down", "Drill-down <all>", "Intro & more", [table])
    report = Report("2026-10", "Oct 2026", True, AS_OF.isoformat(), "USD", [section])
    page = render_page(report, ["gate <b>x</b>: 1 records"])
    assert "<img" not in page and "<b>" not in page and "example.com" in page
    assert "&lt;img src=&#34;https://example.com/x.png&#34;&gt;" in page
    assert '<td class="id">A&amp;B</td>' in page
    assert "<h2>Drill-down &lt;all&gt;</h2>" in page
    assert "2 of 3 rows shown" in page and "third" not in page


def test_a_warehouse_without_the_report_views_is_refused_in_one_line(tmp_path: Path) -> None:
    warehouse = tmp_path / "before-the-reports-schema.duckdb"
    duckdb.connect(str(warehouse)).close()
    refused = pytest.raises(ReportError, match=r"^the warehouse has no reports\.report_periods")
    with duckdb.connect(str(warehouse), read_only=True) as con, refused:
        load_report(con, PERIOD, AS_OF.isoformat())


def report_environ(build: BuiltWarehouse, data_dir: Path):
    """The environment `q2c report` and the asset read: the build's warehouse, reports under
    ``data_dir``."""
    return patched_environ(
        {
            "Q2C_DATA_DIR": str(data_dir),
            "Q2C_WAREHOUSE_PATH": str(build.warehouse),
            "Q2C_AS_OF_DATE": AS_OF.isoformat(),
        }
    )


def test_q2c_report_refuses_failed_gates_and_writes_the_draft_on_request(
    built_warehouse: BuiltWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    gates = [line.split(":")[0] for line in failed_gates(built_warehouse)]
    with report_environ(built_warehouse, tmp_path):
        assert main(["report", "--period", PERIOD]) == 1
        refusal = capsys.readouterr().err
        assert refusal.count("\n") == 1 and "blocking gates failed" in refusal
        assert all(gate in refusal for gate in gates)
        assert not (tmp_path / "reports").exists()

        assert main(["report", "--period", PERIOD, "--draft"]) == 0
        printed = capsys.readouterr()
    reports = tmp_path / "reports"
    assert printed.out.split() == [
        str(reports / f"month_end_{PERIOD}.DRAFT.html"),
        str(reports / f"month_end_{PERIOD}.DRAFT.xlsx"),
    ]
    assert all(gate in printed.err for gate in gates)
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"month_end_{PERIOD}.DRAFT.html", f"month_end_{PERIOD}.DRAFT.xlsx"]
    )


def test_q2c_report_writes_the_final_report_when_the_gates_passed(
    clean_build: BuiltWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with report_environ(clean_build, tmp_path):
        assert main(["report", "--period", PERIOD, "--draft"]) == 0
    assert capsys.readouterr().out.split() == [
        str(tmp_path / "reports" / f"month_end_{PERIOD}.html"),
        str(tmp_path / "reports" / f"month_end_{PERIOD}.xlsx"),
    ]
    with report_environ(clean_build, tmp_path):
        assert main(["report", "--period", "1999-01"]) == 1
    assert "1999-01 is not an accounting period" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--period", "2026-13"])
    assert "not a month: use YYYY-MM" in capsys.readouterr().err


def test_the_report_asset_refuses_a_warehouse_whose_gates_failed(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    with report_environ(built_warehouse, tmp_path), DagsterInstance.ephemeral() as instance:
        result = materialize(
            [month_end_report],
            partition_key=f"{PERIOD}-01",
            resources={"settings": run_settings()},
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.message
    for gate in failed_gates(built_warehouse):
        assert gate in message
    assert not (tmp_path / "reports").exists()
