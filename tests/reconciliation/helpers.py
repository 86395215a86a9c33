"""Helpers for the reconciliation tests: exception keys, the ground truth, building warehouses."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb

Key = tuple[str, str, str]
"""(exception_type, source_system, source_record_id), the contract's key."""

EXCEPTION_TYPES = {
    "unbilled_approved_time",
    "billed_time_missing_invoice",
    "missing_tax_code",
    "invoice_rate_variance",
    "booking_drift",
    "project_without_contract",
    "duplicate_customer",
    "invoice_currency_mismatch",
    "reporting_drift",
}
"""Every type the simulator plants (and generate plants each at least once)."""

OPEN_GROUND_TRUTH = """
    select exception_type, source_system, source_record_id
    from sim_ground_truth where resolved_at is null
"""

OPEN_EXCEPTIONS = """
    select exception_type, source_system, source_record_id
    from reconciliation.exceptions where status = 'open'
"""


def keys(rows: list[tuple]) -> set[Key]:
    return {(str(t), str(s), str(r)) for t, s, r in rows}


def by_type(found: set[Key], expected: set[Key]) -> dict[str, tuple[set[Key], set[Key]]]:
    """Per exception type: (found but not expected, expected but not found)."""
    groups: dict[str, tuple[set[Key], set[Key]]] = defaultdict(lambda: (set(), set()))
    for key in found - expected:
        groups[key[0]][0].add(key)
    for key in expected - found:
        groups[key[0]][1].add(key)
    return dict(groups)


def precision_recall(found: set[Key], expected: set[Key]) -> dict[str, tuple[float, float]]:
    types = {k[0] for k in found | expected}
    scores = {}
    for t in sorted(types):
        f = {k for k in found if k[0] == t}
        e = {k for k in expected if k[0] == t}
        hits = len(f & e)
        scores[t] = (hits / len(f) if f else 1.0, hits / len(e) if e else 1.0)
    return scores


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def report_period(as_of_iso: str) -> str:
    """The month-end report partition to run the job with: the month before the as-of date,
    but no later than the last monthly partition that exists (partitions follow the wall
    clock, and the simulator's clock may run ahead of it after `advance`)."""
    from pipelines.defs.reports.month_end import MONTHS, last_closed_month

    wanted = last_closed_month(date.fromisoformat(as_of_iso))
    last = MONTHS.get_last_partition_key()
    return min(wanted, last[:7]) if last else wanted
