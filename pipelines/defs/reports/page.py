"""The month-end report as one self-contained HTML page: inline CSS and SVG, no script, no
external resource, so it opens from a mail attachment or a file share without a network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape

from pipelines.defs.reports.charts import bar_chart
from pipelines.defs.reports.sections import MONEY, Column, Report, Section, Table

CSS = """
:root{--ink:#1d2733;--muted:#5b6770;--line:#d8dee4;--head:#eef2f5;--bad:#b3261e;--warn:#fff4d6}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--ink);
  background:#fff;font-size:14px;line-height:1.4}
header.top{padding:20px 32px 12px;border-bottom:1px solid var(--line)}
header.top h1{margin:0 0 4px;font-size:24px}
header.top p{margin:2px 0;color:var(--muted)}
nav{padding:8px 32px;border-bottom:1px solid var(--line);background:#fafbfc;font-size:13px}
nav a{margin-right:14px;color:#1f5f8b;text-decoration:none}
main{padding:0 32px 40px}
section{margin-top:28px}
h2{font-size:19px;margin:0 0 4px;border-bottom:2px solid var(--ink);padding-bottom:3px}
h3{font-size:15px;margin:16px 0 4px}
p.intro{color:var(--muted);margin:4px 0 10px;max-width:1000px}
.banner{background:var(--bad);color:#fff;padding:16px 32px;font-size:16px}
.banner strong{font-size:20px;display:block;margin-bottom:4px}
.banner ul{margin:6px 0 0 18px;padding:0}
.final{background:#e7f4ea;color:#1e5631;padding:8px 32px;font-size:13px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:190px}
.tile .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.tile .value{font-size:21px;font-weight:600;font-variant-numeric:tabular-nums}
.tile .sub{color:var(--muted);font-size:12px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:6px 0 4px;font-size:12.5px}
th,td{border:1px solid var(--line);padding:3px 7px;vertical-align:top}
th{background:var(--head);text-align:left;font-weight:600;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.neg{color:var(--bad)}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
td.cur{color:var(--muted)}
td.short{white-space:nowrap}
td.wrap{min-width:220px}
tr.hl td{background:var(--warn)}
p.none{color:#1e5631;margin:6px 0}
p.more{color:var(--muted);font-size:12px}
svg.chart{display:block;margin:10px 0;max-width:100%;height:auto;font-size:12px}
svg .chart-title{font-weight:600;font-size:13px}
svg .category,svg .legend,svg .value{fill:var(--ink)}
svg .value{font-variant-numeric:tabular-nums}
svg .axis{stroke:#888}
svg .marker{stroke:var(--bad);stroke-width:2;stroke-dasharray:4 3}
footer{color:var(--muted);font-size:12px;padding:16px 32px;border-top:1px solid var(--line)}
@media print{nav{display:none}th{position:static}}
"""


def _cell(column: Column, value: object) -> str:
    if value is None:
        return '<td class="num">—</td>' if column.kind not in ("text", "id") else "<td></td>"
    kind = column.kind
    if kind in (MONEY, "quantity"):
        negative = " neg" if value < 0 else ""
        return f'<td class="num{negative}">{value:,.2f}</td>'
    if kind == "count":
        return f'<td class="num">{value:,}</td>'
    if kind == "decimal":
        return f'<td class="num">{value:,.1f}</td>'
    if kind == "percent":
        return f'<td class="num">{value:,.2f} %</td>'
    if kind == "flag":
        return f"<td>{'yes' if value else 'no'}</td>"
    if kind == "timestamp" and isinstance(value, datetime):
        return f'<td class="num">{value:%Y-%m-%d %H:%M}</td>'
    if kind == "date" and isinstance(value, date):
        return f'<td class="num">{value.isoformat()}</td>'
    if kind == "id":
        return f'<td class="id">{escape(str(value))}</td>'
    text = str(value)
    css = "cur" if _is_currency_column(column) else "wrap" if len(text) > 32 else "short"
    return f'<td class="{css}">{escape(text)}</td>'


def _is_currency_column(column: Column) -> bool:
    return column.kind == "text" and column.header.lower().endswith("currency")


def _table(table: Table) -> str:
    caption = f"<h3>{escape(table.caption)}</h3>" if table.caption else ""
    if not table.rows:
        return f'{caption}<p class="none">None.</p>'
    shown = table.rows if table.html_limit is None else table.rows[: table.html_limit]
    head = "".join(f"<th>{escape(c.header)}</th>" for c in table.columns)
    body = []
    for row in shown:
        highlighted = table.highlight is not None and row[table.highlight]
        cells = "".join(_cell(c, v) for c, v in zip(table.columns, row, strict=True))
        body.append(f'<tr class="hl">{cells}</tr>' if highlighted else f"<tr>{cells}</tr>")
    more = ""
    if len(shown) < len(table.rows):
        more = (
            f'<p class="more">{len(shown)} of {len(table.rows)} rows shown; the workbook sheet '
            f"“{escape(table.sheet)}” has every row.</p>"
        )
    return (
        f'{caption}<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def _tiles(table: Table) -> str:
    tiles = []
    for measure, currency, amount, count in table.rows:
        if amount is not None:
            value = f"{escape(currency or '')} {amount:,.2f}"
            sub = "" if count is None else f"{count:,} record{'' if count == 1 else 's'}"
        else:
            value, sub = f"{count:,}", ""
        tiles.append(
            f'<div class="tile"><div class="label">{escape(measure)}</div>'
            f'<div class="value">{value}</div><div class="sub">{sub}</div></div>'
        )
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _section(section: Section) -> str:
    parts = [
        f'<section id="{section.key}"><h2>{escape(section.title)}</h2>',
        f'<p class="intro">{escape(section.intro)}</p>',
    ]
    for i, table in enumerate(section.tables):
        parts.append(_tiles(table) if section.key == "headline" and i == 0 else _table(table))
        if table.chart is not None:
            parts.append(bar_chart(table.chart))
    parts.append("</section>")
    return "".join(parts)


DRAFT_HEADLINE = "DRAFT — not for filing: blocking gates failed"


def draft_banner_text(draft_reasons: Sequence[str]) -> str:
    return f"{DRAFT_HEADLINE}: " + "; ".join(draft_reasons)


def render_page(report: Report, draft_reasons: Sequence[str] = ()) -> str:
    title = f"Month-end report {report.period}"
    if draft_reasons:
        items = "".join(f"<li>{escape(r)}</li>" for r in draft_reasons)
        status = (
            f'<div class="banner" role="alert"><strong>{DRAFT_HEADLINE}:</strong>'
            f"<ul>{items}</ul>Fix the records listed below, rebuild, and write "
            "the report again.</div>"
        )
        title = f"DRAFT — {title}"
    else:
        status = '<div class="final">Written from a build whose blocking gates passed.</div>'
    closed = "closed in the ERP" if report.is_period_closed else "still open in the ERP"
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in report.sections)
    body = "".join(_section(s) for s in report.sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head><body>
{status}
<header class="top"><h1>{escape(title)}</h1>
<p>Accounting period {escape(report.period_name)} ({escape(report.period)}), {closed}. Judged as of
{escape(report.as_of)}. Reporting currency {escape(report.reporting_currency)}.</p>
<p>Every figure is read from the warehouse's reconciliation and canonical marts; every record to
fix carries its source system and record id.</p></header>
<nav>{nav}</nav>
<main>{body}</main>
<footer>q2c month-end report · period {escape(report.period)} · as of {escape(report.as_of)}.
The workbook beside this file has one sheet per table, with every row.</footer>
</body></html>
"""
