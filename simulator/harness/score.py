"""How well the reconciliation found what the simulator planted: precision and recall per type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lib.warehouse import connect

Key = tuple[str, str, str]
"""(exception_type, source_system, source_record_id)"""


@dataclass(frozen=True)
class TypeScore:
    exception_type: str
    expected: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0


def score(found: Iterable[Key], expected: Iterable[Key]) -> list[TypeScore]:
    found_set, expected_set = set(found), set(expected)
    types = sorted({k[0] for k in found_set | expected_set})
    return [
        TypeScore(
            t,
            expected=sum(1 for k in expected_set if k[0] == t),
            found=sum(1 for k in found_set if k[0] == t),
            true_positives=sum(1 for k in found_set & expected_set if k[0] == t),
        )
        for t in types
    ]


def open_exceptions(warehouse: Path) -> set[Key]:
    with connect(warehouse) as con:
        rows = con.execute(
            """select exception_type, source_system, source_record_id
               from reconciliation.exceptions where status = 'open'"""
        ).fetchall()
    return {(a, b, str(c)) for a, b, c in rows}


def open_ground_truth(firm_db: Path) -> set[Key]:
    """The simulator's planted problems still open (resolved ones are history)."""
    con = duckdb.connect(str(firm_db), read_only=True)
    try:
        rows = con.execute(
            """select exception_type, source_system, source_record_id
               from sim_ground_truth where resolved_at is null"""
        ).fetchall()
    finally:
        con.close()
    return {(a, b, str(c)) for a, b, c in rows}


def format_scores(scores: list[TypeScore]) -> str:
    lines = [f"{'exception type':<28} {'expected':>8} {'found':>6} {'precision':>9} {'recall':>7}"]
    for s in scores:
        lines.append(
            f"{s.exception_type:<28} {s.expected:>8} {s.found:>6} {s.precision:>9.2f} {s.recall:>7.2f}"
        )
    return "\n".join(lines)
