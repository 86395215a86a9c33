"""A content fingerprint of a warehouse: one hash per table, computed inside DuckDB.

The fault suite asks "is this warehouse the one a clean run builds?" after retries, dropped
connections and killed runs. Row counts cannot say it (a retried page could change a value,
not a count) and comparing files cannot either (DuckDB's file layout, dlt's load ids and
the times of the loads differ from run to run). So every table of the ``raw_*``, ``staging``,
``canonical`` and ``reconciliation`` schemas is reduced to its row count and an
order-independent hash of its rows (the sum of DuckDB's ``hash`` of each row, so a duplicated
row counts twice), with its column names and types; two warehouses then compare table by
table, and a difference names the table.

What a load writes about itself is left out, and only that: dlt's bookkeeping tables and row
ids, and the few columns that record when (or how many times) the warehouse loaded rather
than what the sources hold (``LOAD_TIME_COLUMNS``, each with its reason). Everything the
reconciliation derives from the as-of date (``first_detected_at`` and the like, from the dbt
macro ``detected_at``, which never reads the clock) stays in: it must be equal.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMAS = ("raw_*", "staging", "canonical", "reconciliation")
"""Schemas fingerprinted (patterns): what the sources hold, and everything built from it."""

ANALYTICS_SCHEMAS = ("canonical", "reconciliation")
"""The schemas of the analysts' copy (``pipelines/defs/publish``)."""

LOAD_TABLES = ("_dlt_loads", "_dlt_pipeline_state", "_dlt_version")
"""dlt's record of its loads, schemas and state: one row per load, so never equal."""

LOAD_COLUMNS = ("_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id")
"""dlt's ids of a load and of a row in it (random per load), in every table."""

LOAD_TIME_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    # Harvest keeps no trace of a delete: the id reconcile records the wall-clock time it
    # found one (pipelines/defs/ingest/psa/source.py), and deletions.py copies that time
    # into _deleted_at of the psa tables (crm and erp take theirs from the source's data).
    ("raw_psa", "deleted_records"): ("detected_at",),
    ("raw_psa", "*"): ("_deleted_at",),
    ("staging", "stg_harvest__*"): ("deleted_at",),
    # When the warehouse last loaded each resource, how many loads it has had, and how long
    # changes waited for a load: the history of the loads, not of the sources. A killed run
    # and its recovery are two loads where a clean run is one.
    ("reconciliation", "kpi_sync_latency"): (
        "last_loaded_at",
        "load_count",
        "synced_change_count",
        "avg_latency_seconds",
        "median_latency_seconds",
        "max_latency_seconds",
    ),
}


@dataclass(frozen=True)
class TableHash:
    rows: int
    digest: str
    """Hash of the column names and types and of the rows' hashes (16 hex digits)."""


def excluded_columns(schema: str, table: str) -> set[str]:
    """The load-time columns of one table, left out of its fingerprint."""
    excluded = set(LOAD_COLUMNS)
    for (schema_pattern, table_pattern), columns in LOAD_TIME_COLUMNS.items():
        if fnmatch.fnmatchcase(schema, schema_pattern) and fnmatch.fnmatchcase(
            table, table_pattern
        ):
            excluded.update(columns)
    return excluded


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fingerprint(
    database: Path, schemas: tuple[str, ...] = SCHEMAS, staging_views: bool = True
) -> dict[str, TableHash]:
    """``schema.table`` -> its fingerprint, for every table (and view) of ``schemas``.

    The database is opened read-only, so the fingerprint of the analysts' copy is also the
    proof that it opens the way analysts open it. ``staging_views=False`` leaves the staging
    views out (each is a query over raw, run again to be hashed).
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        result: dict[str, TableHash] = {}
        for schema, table, kind in tables:
            if not any(fnmatch.fnmatchcase(schema, p) for p in schemas):
                continue
            if table in LOAD_TABLES or (
                kind == "VIEW" and schema == "staging" and not staging_views
            ):
                continue
            result[f"{schema}.{table}"] = _table_hash(con, schema, table)
        return result
    finally:
        con.close()


def _table_hash(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> TableHash:
    excluded = excluded_columns(schema, table)
    columns = sorted(
        (name, kind)
        for name, kind in con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        if name not in excluded
    )
    listed = ", ".join(_quoted(name) for name, _ in columns)
    row_hash = f"hash({listed})" if columns else "0"
    rows, total = con.execute(
        f"select count(*), coalesce(sum({row_hash}::hugeint), 0) "
        f"from {_quoted(schema)}.{_quoted(table)}"
    ).fetchone()
    signature = ";".join(f"{name} {kind}" for name, kind in columns)
    digest = hashlib.sha256(f"{signature}|{rows}|{total}".encode()).hexdigest()[:16]
    return TableHash(int(rows), digest)


def differences(expected: dict[str, TableHash], actual: dict[str, TableHash]) -> list[str]:
    """The tables that differ, each with how: missing, extra, or its rows (the counts)."""
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if got is None:
            found.append(f"{name} missing")
        elif want is None:
            found.append(f"{name} not in the clean run")
        elif want != got:
            rows = f"{want.rows} -> {got.rows} rows" if want.rows != got.rows else "same count"
            found.append(f"{name} differs ({rows})")
    return found


def equal_tables(expected: dict[str, TableHash], actual: dict[str, TableHash]) -> int:
    """How many of the expected tables are in ``actual`` with the same fingerprint."""
    return sum(1 for name, want in expected.items() if actual.get(name) == want)
