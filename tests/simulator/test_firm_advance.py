"""advance(): the clock moves, the world happens, the ground truth keeps up."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from firm_fixtures import RULES, cached_firm, clock, detect, firm, open_truth, table_hashes

from simulator import schema
from simulator.firm import FirmError, advance

# Harvest renders nested objects live, without touching the record's updated_at.
NESTED = {
    f"{name}_{field}"
    for t in schema.HARVEST.values()
    for name, fields in t.nested.items()
    for field in fields
    if field != "id"
}


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Every table with a cursor, keyed by primary key, values as text (cursor as is)."""
    out = {}
    for t in schema.ALL_TABLES:
        if t.cursor:
            cols = [
                f'"{c}"' if c in (*t.primary_key, t.cursor) else f'"{c}"::varchar as "{c}"'
                for c in t.column_names
                if c not in NESTED
            ]
            out[t.name] = (
                con.execute(f"select {', '.join(cols)} from {t.name}")
                .df()
                .set_index(list(t.primary_key))
            )
    return out


def test_advance_is_deterministic() -> None:
    a, b = firm(), firm()
    sa, sb = advance(a, days=3), advance(b, days=3)
    assert table_hashes(a) == table_hashes(b)
    assert sa == sb


def test_only_changed_rows_get_a_new_timestamp() -> None:
    con = firm()
    before, t1 = _snapshot(con), clock(con)
    advance(con, days=9)  # crosses the month-end invoicing day
    after, t2 = _snapshot(con), clock(con)
    cursors = {t.name: t.cursor for t in schema.ALL_TABLES}
    changed_tables = set()
    for name, old in before.items():
        new = after[name]
        cursor = cursors[name]
        common = old.index.intersection(new.index)
        o, n = old.loc[common], new.loc[common]
        differs = ~((o == n) | (o.isna() & n.isna())).all(axis=1)
        moved = n[cursor] != o[cursor]
        assert (differs == moved).all(), f"{name}: changed rows and moved cursors differ"
        assert (n.loc[moved, cursor] > t1).all() and (n[cursor] <= t2).all(), name
        added = new.loc[new.index.difference(old.index)]
        assert ((added[cursor] > t1) & (added[cursor] <= t2)).all(), name
        if moved.any() or len(added):
            changed_tables.add(name)
    assert {"hv_time_entries", "ns_transaction", "sf_opportunity"} <= changed_tables


def test_advance_resolves_and_plants_and_the_truth_keeps_matching_the_rules() -> None:
    con = cached_firm(days=(1, 1, 30))
    truth = pd.DataFrame(
        con.execute("select * from sim_ground_truth").fetchall(),
        columns=[
            "exception_type",
            "source_system",
            "source_record_id",
            "planted_at",
            "resolved_at",
            "note",
        ],
    )
    generated = pd.Timestamp("2026-11-25 20:00:00")
    assert truth["resolved_at"].notna().sum() > 0
    assert (truth["planted_at"] > generated).sum() > 0
    assert truth.loc[truth["resolved_at"].notna(), "resolved_at"].gt(generated).all()
    found, expected = detect(con), open_truth(con)
    assert {n: (len(found[n]), len(expected[n])) for n in RULES if found[n] != expected[n]} == {}


def test_advance_deletes_in_each_system() -> None:
    con = cached_firm(days=(1, 1, 30))
    assert con.execute("select count(*) from sf_opportunity where IsDeleted").fetchone()[0] >= 3
    assert con.execute("select count(*) from ns_deletedrecord").fetchone()[0] >= 3
    deleted = con.execute("select value from sim_meta where key = 'deleted_projects'").fetchone()
    assert deleted and deleted[0] != "[]"
    assert (
        con.execute(
            f"select count(*) from hv_time_entries where list_contains({deleted[0]}, project_id)"
        ).fetchone()[0]
        == 0
    )


def test_a_clean_firm_stays_clean_across_a_month_end() -> None:
    con = cached_firm(problem_rate=0, days=(40,))
    assert {name: found for name, found in detect(con).items() if found} == {}
    assert con.execute("select count(*) from sim_ground_truth").fetchone()[0] == 0
    periods = con.execute(
        "select count(*), count(*) filter (where closed) from ns_accountingperiod"
    ).fetchone()
    assert periods == (15, 13)
    assert (
        con.execute("select max(trandate) from ns_transaction where type = 'CustInvc'")
        .fetchone()[0]
        .isoformat()
        == "2026-12-31"
    )


def test_advance_refuses_a_database_from_another_generator_version() -> None:
    con = firm(problem_rate=0)
    con.execute("update sim_meta set value = '0' where key = 'generator_version'")
    with pytest.raises(FirmError, match="regenerate"):
        advance(con, days=1)
