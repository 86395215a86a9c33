"""Where the gates stand: their latest recorded outcome against this warehouse.

The month-end report is written only when every blocking gate's latest validation passed;
``failed_blocking_gates`` says which did not, in words finance can act on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from pipelines.defs.quality.checks import GATES
from pipelines.lib.gx_checks import HISTORY_TABLE
from pipelines.lib.warehouse import connect
from pipelines.settings import Settings


@dataclass(frozen=True)
class GateOutcome:
    checkpoint: str
    passed: bool
    offending_rows: int | None = None
    offending_record_ids: int | None = None
    reporting_currency: str | None = None
    amount_reporting: Decimal | None = None
    checked_at: datetime | None = None
    run_id: str | None = None

    def summary(self) -> str:
        """One line, e.g. ``reporting_drift: 5 records (6 rows), USD 12,345.67``: the source
        records to fix, and the gate's rows where one record offends in more than one way."""
        if self.checked_at is None:
            return f"{self.checkpoint}: never validated against this warehouse"
        verdict = "" if not self.passed else " (passed)"
        records = _count(self.offending_record_ids, "record")
        if self.offending_rows != self.offending_record_ids:
            records += f" ({_count(self.offending_rows, 'row')})"
        return (
            f"{self.checkpoint}: {records}, "
            f"{self.reporting_currency} {self.amount_reporting:,.2f}{verdict}"
        )


def _count(n: int | None, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def gate_outcomes(settings: Settings) -> list[GateOutcome]:
    """The latest outcome of every gate, in the order of ``GATES`` (all of them blocking)."""
    rows: list[tuple] = []  # no warehouse yet, or no check has run against it
    if settings.warehouse_path.exists():
        with connect(settings.warehouse_path) as con, contextlib.suppress(duckdb.CatalogException):
            rows = con.execute(
                f"""select checkpoint, passed, offending_rows, offending_record_ids,
                           reporting_currency,
                           offending_amount_reporting, checked_at, run_id
                    from {HISTORY_TABLE}
                    qualify row_number() over (
                        partition by checkpoint order by checked_at desc) = 1"""
            ).fetchall()
    latest = {row[0]: row for row in rows}
    return [
        GateOutcome(*latest[gate.checkpoint])
        if gate.checkpoint in latest
        else GateOutcome(gate.checkpoint, passed=False)
        for gate in GATES
    ]


def failed_blocking_gates(settings: Settings) -> list[GateOutcome]:
    """The blocking gates whose latest validation failed, or that never ran."""
    return [outcome for outcome in gate_outcomes(settings) if not outcome.passed]
