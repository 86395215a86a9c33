"""Detection history across runs, on a second firm (seed 3) built here.

One warehouse, two job runs: the firm as of 2026-11-25, then the same firm advanced twice by a
week (fixes, new problems, one backdated change to a closed period per advance: an invoice line
edit, then an approved time entry), loaded incrementally into the same data directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.settings import patched_environ
from simulator.firm import FirmParams, advance
from simulator.harness import firm_as_of, simulated_sources
from tests.reconciliation.helpers import (
    OPEN_EXCEPTIONS,
    OPEN_GROUND_TRUTH,
    Key,
    by_type,
    keys,
    query,
    report_period,
)
from tests.support import failed_steps, run_refresh_job

AS_OF = date(2026, 11, 25)
ADVANCES = (7, 7)

EXCEPTION_ROWS = """
    select exception_type, source_system, source_record_id,
           status, first_detected_at, last_seen_at, resolved_at
    from reconciliation.exceptions
"""

# The contract's timestamp rules (a1, a2), restricted to records changed after `since`.
BACKDATED_KEYS = """
    select strftime(p.startdate, '%Y-%m') || '|' ||
           case u.roles[2] when 'New York' then 1 when 'London' then 2 when 'Berlin' then 3 end
    from hv_time_entries te
    join hv_projects pr on pr.id = te.project_id and pr.is_billable and not pr.is_fixed_fee
    join hv_users u on u.id = te.user_id
    join ns_accountingperiod p on te.spent_date between p.startdate and p.enddate
    where p.closed and te.created_at > p.closedondate and te.is_closed and te.billable
      and te.created_at > $since
    union
    select strftime(p.startdate, '%Y-%m') || '|' || l.subsidiary
    from ns_transactionline l
    join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
    join ns_accountingperiod p on p.id = t.postingperiod
    where p.closed and l.linelastmodifieddate > p.closedondate and l.linelastmodifieddate > $since
"""


@dataclass
class Run:
    open_truth: set[Key]
    rows: dict[Key, tuple]
    clock: datetime
    checks: dict[str, object]

    @property
    def open_found(self) -> set[Key]:
        return {k for k, r in self.rows.items() if r[0] == "open"}


@dataclass
class History:
    warehouse: Path
    first: Run
    second: Run
    backdated: set[str]
    summaries: list


def _run(sim, warehouse: Path, as_of: str) -> Run:
    with patched_environ({"Q2C_AS_OF_DATE": as_of}):
        result = run_refresh_job(period=report_period(as_of))
    assert failed_steps(result) == []
    clock = sim.firm.execute("select value from sim_meta where key = 'clock'").fetchone()[0]
    rows = {(t, s, str(r)): tuple(rest) for t, s, r, *rest in query(warehouse, EXCEPTION_ROWS)}
    assert keys(query(warehouse, OPEN_EXCEPTIONS)) == {k for k, v in rows.items() if v[0] == "open"}
    return Run(
        keys(sim.firm.execute(OPEN_GROUND_TRUTH).fetchall()),
        rows,
        datetime.fromisoformat(str(clock)),
        {e.check_name: e for e in result.get_asset_check_evaluations()},
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    data_dir = tmp_path_factory.mktemp("q2c-history")
    warehouse = data_dir / "warehouse.duckdb"
    params = FirmParams(seed=3, scale="small", as_of=AS_OF, problem_rate=0.03)
    firm = data_dir / "simulator" / "firm.duckdb"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm, params) as sim:
        first = _run(sim, warehouse, AS_OF.isoformat())
        summaries = [advance(sim.firm, days=days) for days in ADVANCES]
        second = _run(sim, warehouse, firm_as_of(sim.firm))
        backdated = {
            r[0]
            for r in sim.firm.execute(
                BACKDATED_KEYS.replace("$since", f"timestamp '{first.clock}'")
            ).fetchall()
        }
        yield History(warehouse, first, second, backdated, summaries)


def test_first_run_is_the_open_ground_truth(history: History) -> None:
    assert by_type(history.first.open_found, history.first.open_truth) == {}


def test_after_advance_open_exceptions_are_the_open_ground_truth(history: History) -> None:
    assert by_type(history.second.open_found, history.second.open_truth) == {}


def test_nothing_is_forgotten(history: History) -> None:
    assert set(history.first.rows) <= set(history.second.rows)


def test_fixed_exceptions_are_resolved_with_their_first_detection(history: History) -> None:
    first, second = history.first, history.second
    fixed = first.open_found - second.open_truth
    assert fixed, [s.fixed for s in history.summaries]
    for key in fixed:
        status, first_detected, _, resolved = second.rows[key]
        assert status == "resolved", key
        assert first_detected == first.rows[key][1] == datetime(2026, 11, 25), key
        assert resolved == datetime(2026, 12, 9), key


def test_new_exceptions_open_at_the_second_run(history: History) -> None:
    new = history.second.open_truth - history.first.open_found
    assert new, [s.planted for s in history.summaries]
    for key in new:
        status, first_detected, last_seen, resolved = history.second.rows[key]
        assert (status, first_detected, last_seen, resolved) == (
            "open",
            datetime(2026, 12, 9),
            datetime(2026, 12, 9),
            None,
        ), key


def test_untouched_exceptions_keep_their_history(history: History) -> None:
    untouched = history.first.open_found & history.second.open_truth
    assert untouched
    for key in untouched:
        status, first_detected, last_seen, resolved = history.second.rows[key]
        assert status == "open" and resolved is None, key
        assert first_detected == history.first.rows[key][1], key
        assert last_seen == datetime(2026, 12, 9), key


def test_backdated_changes_drift_exactly_their_period_and_entity(history: History) -> None:
    """Each advance changed one closed period (an invoice line, then a time entry): the
    warehouse attributes the changes made since its first run to exactly those periods and
    entities, raises them as reporting drift, and sees their frozen figures move."""
    assert len(history.backdated) == 2, [s.planted for s in history.summaries]
    changed_since_first_run = {
        r[0]
        for r in query(
            history.warehouse,
            """select distinct period || '|' || cast(legal_entity_id as varchar)
               from intermediate.int_reconciliation__closed_period_changes
               where changed_at > cast(? as timestamp) at time zone 'UTC'""",
            [history.first.clock],
        )
    }
    assert changed_since_first_run == history.backdated
    kinds = {
        r[0]
        for r in query(
            history.warehouse,
            """select distinct change_type from intermediate.int_reconciliation__closed_period_changes
               where changed_at > cast(? as timestamp) at time zone 'UTC'""",
            [history.first.clock],
        )
    }
    assert kinds == {"time_entry_created_after_close", "invoice_line_modified_after_close"}
    for key in history.backdated:
        assert history.second.rows[("reporting_drift", "warehouse", key)][0] == "open", key
    frozen_moved = {
        r[0]
        for r in query(
            history.warehouse,
            "select source_record_id from reconciliation.reporting_drift "
            "where reason = 'frozen_figures_changed'",
        )
    }
    assert history.backdated <= frozen_moved


def test_closed_periods_are_frozen_once(history: History) -> None:
    frozen = dict(
        query(
            history.warehouse,
            "select period, min(frozen_at) from reconciliation.period_close_snapshots group by period",
        )
    )
    # November closed on 8 December: frozen by the second run; the rest by the first
    assert frozen.pop("2026-11") == datetime(2026, 12, 9)
    assert set(frozen.values()) == {datetime(2026, 11, 25)}
    ((per_key,),) = query(
        history.warehouse,
        "select max(n) from (select count(*) as n from reconciliation.period_close_snapshots "
        "group by period_entity_key)",
    )
    assert per_key == 1


def test_each_validation_is_compared_with_the_one_before(history: History) -> None:
    for name in ("gx_unbilled_approved_time", "gx_reporting_drift", "gx_canonical_invoices"):
        first, second = history.first.checks[name], history.second.checks[name]
        assert "previous_offending_rows" not in first.metadata
        before = first.metadata["offending_rows"].value
        assert second.metadata["previous_offending_rows"].value == before
        change = second.metadata["offending_rows"].value - before
        assert second.metadata["change_in_offending_rows"].value == change
    runs = query(
        history.warehouse,
        "select count(distinct run_id), count(*) from quality.validation_results",
    )
    assert runs == [(2, 10)]
