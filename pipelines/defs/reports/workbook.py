"""The month-end report as an Excel workbook for finance: one sheet per table, real numbers with
currency formats (amounts stay Decimal until openpyxl writes them), the currency beside every
amount, frozen headers and filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.defs.reports.page import draft_banner_text
from pipelines.defs.reports.sections import MONEY, Column, Report, Table

HEADER_ROW = 4
"""Row 1: the sheet's title; row 2: what it holds; row 4: the column headers (frozen, filtered)."""

FORMATS = {
    "quantity": "#,##0.00",
    "count": "#,##0",
    "decimal": "#,##0.0",
    "percent": '0.00" %"',
    "date": "yyyy-mm-dd",
    "timestamp": "yyyy-mm-dd hh:mm",
    "id": "0",
}
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
DRAFT_FONT = Font(bold=True, size=14, color="FFFFFF")
DRAFT_FILL = PatternFill("solid", fgColor="B3261E")
HEADER_FILL = PatternFill("solid", fgColor="EEF2F5")
HIGHLIGHT_FILL = PatternFill("solid", fgColor="FFF4D6")


def money_format(currency: str | None) -> str:
    """Excel's currency format for ``currency`` (ISO code shown before the amount, negatives
    in red), or a plain two-decimal format when the row names no currency."""
    if not currency:
        return "#,##0.00;[Red]-#,##0.00"
    return f"[${currency}] #,##0.00;[Red]-[${currency}] #,##0.00"


def _write_table(ws: Worksheet, table: Table, title: str, subtitle: str) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE
    ws["A2"] = subtitle
    ws["A2"].alignment = Alignment(wrap_text=False)
    widths = [len(c.header) + 4 for c in table.columns]
    for j, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=j, value=column.header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for i, row in enumerate(table.rows, start=HEADER_ROW + 1):
        highlighted = table.highlight is not None and row[table.highlight]
        for j, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = ws.cell(row=i, column=j, value=_excel_value(column, value))
            if column.kind == MONEY:
                cell.number_format = money_format(row[column.currency])
            elif column.kind in FORMATS and not (column.kind == "id" and isinstance(value, str)):
                cell.number_format = FORMATS[column.kind]
            if highlighted:
                cell.fill = HIGHLIGHT_FILL
            widths[j - 1] = max(widths[j - 1], _display_width(column, value))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(width, 60)
    last_row = HEADER_ROW + max(len(table.rows), 1)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(table.columns))}{last_row}"
    if not table.rows:
        ws.cell(row=HEADER_ROW + 1, column=1, value="None.")


def _excel_value(column: Column, value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        raise ValueError(f"{column.header}: Excel has no time zones; select it in UTC")
    return value


def _display_width(column: Column, value: object) -> int:
    if value is None:
        return 0
    if column.kind in (MONEY, "quantity"):
        return len(f"{value:,.2f}") + 6
    if column.kind == "timestamp":
        return 18
    return len(str(value)) + 2


def _draft_sheet(ws: Worksheet, report: Report, draft_reasons: Sequence[str]) -> None:
    ws.title = "DRAFT"
    ws["A1"] = "DRAFT — not for filing"
    ws["A2"] = draft_banner_text(draft_reasons)
    for row in (1, 2):
        ws.cell(row=row, column=1).font = DRAFT_FONT
        ws.cell(row=row, column=1).fill = DRAFT_FILL
    ws["A4"] = "Failed blocking gate"
    ws["A4"].font = BOLD
    for i, reason in enumerate(draft_reasons, start=5):
        ws.cell(row=i, column=1, value=reason)
    ws.cell(
        row=6 + len(draft_reasons),
        column=1,
        value=f"Month-end report {report.period}, as of {report.as_of}: fix the records on the "
        "following sheets, rebuild, and write the report again.",
    )
    ws.column_dimensions["A"].width = 100


def write_workbook(path: Path, report: Report, draft_reasons: Sequence[str] = ()) -> None:
    workbook = Workbook()
    first = workbook.active
    if draft_reasons:
        _draft_sheet(first, report, draft_reasons)
    else:
        workbook.remove(first)
    prefix = "DRAFT — " if draft_reasons else ""
    for section in report.sections:
        for table in section.tables:
            ws = workbook.create_sheet(table.sheet)
            title = f"{prefix}Month-end {report.period}: {section.title}"
            if table.caption:
                title += f" — {table.caption}"
            _write_table(ws, table, title, section.intro)
    workbook.save(path)
