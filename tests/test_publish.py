"""Analysts read data/analytics.duckdb while the pipeline rebuilds: never locked, never mixed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.lib.warehouse import publish_copy

READER = """
import json, sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
reads, errors, mixed = 0, [], 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        con = duckdb.connect(path, read_only=True)
        a = con.execute("select distinct generation from canonical.deals").fetchall()
        b = con.execute("select distinct generation from reconciliation.exceptions").fetchall()
        con.close()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        continue
    reads += 1
    if len(a) != 1 or a != b:
        mixed += 1
print(json.dumps({"reads": reads, "errors": errors[:3], "mixed": mixed}))
"""


def build(warehouse: Path, generation: int) -> None:
    con = duckdb.connect(str(warehouse))
    for schema, table in (("canonical", "deals"), ("reconciliation", "exceptions")):
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create or replace table {schema}.{table} as "
            f"select {generation} as generation, range as n from range(50000)"
        )
    con.execute("create schema if not exists staging")
    con.execute("create or replace table staging.scratch as select 1 as x")
    con.close()


def test_readers_see_whole_builds_while_the_pipeline_publishes(tmp_path: Path) -> None:
    warehouse, analytics = tmp_path / "warehouse.duckdb", tmp_path / "analytics.duckdb"
    build(warehouse, 0)
    rows = publish_copy(warehouse, analytics, ("canonical", "reconciliation"))
    assert rows == {"canonical.deals": 50000, "reconciliation.exceptions": 50000}

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(analytics), "4"], stdout=subprocess.PIPE, text=True
    )
    for generation in range(1, 12):
        build(warehouse, generation)
        publish_copy(warehouse, analytics, ("canonical", "reconciliation"))
    out, _ = reader.communicate(timeout=60)
    seen = json.loads(out)
    assert seen["errors"] == [] and seen["mixed"] == 0
    assert seen["reads"] > 10

    con = duckdb.connect(str(analytics), read_only=True)
    assert con.execute("select distinct generation from canonical.deals").fetchall() == [(11,)]
    schemas = {r[0] for r in con.execute("select schema_name from duckdb_tables()").fetchall()}
    con.close()
    assert schemas == {"canonical", "reconciliation"}
    assert not list(tmp_path.glob(".analytics*"))
