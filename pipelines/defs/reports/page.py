"""The month-end report as one self-contained HTML page: inline CSS and SVG, no script, no
external resource, so it opens from a mail attachment or a file share without a network.

The page is the jinja2 template templates/month_end.html.j2 (with month_end.css), autoescaped:
every value from the warehouse is escaped, whatever it holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined

from pipelines.defs.reports.charts import layout
from pipelines.defs.reports.sections import MONEY, Column, Report

TEMPLATE = "month_end.html.j2"

DRAFT_HEADLINE = "DRAFT — not for filing: blocking gates failed"


def draft_banner_text(draft_reasons: Sequence[str]) -> str:
    return f"{DRAFT_HEADLINE}: " + "; ".join(draft_reasons)


def _is_currency_column(column: Column) -> bool:
    """A text column naming a currency, shown muted beside its amounts."""
    return column.kind == "text" and column.header.lower().endswith("currency")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipelines.defs.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = format
    env.tests["datetime"] = lambda value: isinstance(value, datetime)
    env.tests["date"] = lambda value: isinstance(value, date)
    env.tests["currency_column"] = _is_currency_column
    env.globals.update(MONEY=MONEY, chart_layout=layout, draft_headline=DRAFT_HEADLINE)
    return env


ENVIRONMENT = _environment()


def render_page(report: Report, draft_reasons: Sequence[str] = ()) -> str:
    return ENVIRONMENT.get_template(TEMPLATE).render(
        report=report, draft_reasons=list(draft_reasons)
    )
