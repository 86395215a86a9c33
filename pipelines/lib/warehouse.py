"""Opening the DuckDB warehouse: one function, so every reader and writer agrees on how."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

WAREHOUSE_POOL = "warehouse"
"""The Dagster concurrency pool of every step that opens the warehouse file (one at a time:
DuckDB takes one writer and, while it writes, no reader)."""

DUCKDB_MEMORY_LIMIT = "1GB"
"""What DuckDB may hold in memory while the pipeline loads and publishes (dlt's landing
connections and the publish transaction). DuckDB's default is 80 % of the machine; past this
it spills to disk, so a large firm's sync stays well under the 2 GB the pipeline is allowed."""


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is always closed, so the next writer (dlt, dbt, GX) can open the file."""
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()


def publish_dataset(
    warehouse: Path,
    landing: Path,
    dataset: str,
    finish: Callable[[duckdb.DuckDBPyConnection, str, list[str]], None] | None = None,
) -> dict[str, int]:
    """Copy every table of ``dataset`` from a landing file into the warehouse, atomically.

    Readers of the warehouse see either the whole previous load or the whole new one, never
    a half-loaded mix: a failed or killed load stops before this, and this is one transaction.
    ``finish`` runs inside the same transaction (the deletes are flagged there).
    Returns rows per table.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(warehouse) as con:
        con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.execute(f"attach '{landing}' as landing (read_only)")
        tables = [
            r[0]
            for r in con.execute(
                """select table_name from duckdb_tables()
                   where database_name = 'landing' and schema_name = ? order by 1""",
                [dataset],
            ).fetchall()
        ]
        rows: dict[str, int] = {}
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {dataset}")
            for table in tables:
                con.execute(
                    f'create or replace table {dataset}."{table}" as '
                    f'select * from landing.{dataset}."{table}"'
                )
                (rows[table],) = con.execute(f'select count(*) from {dataset}."{table}"').fetchone()
            if finish is not None:
                finish(con, dataset, tables)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        con.execute("detach landing")
    return rows


def publish_copy(warehouse: Path, target: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    """Write ``schemas`` of the warehouse into a new file and rename it over ``target``.

    The rename is atomic: a reader opening ``target`` gets the whole previous build or the
    whole new one, and a reader already connected keeps reading the file it opened, so
    analysts are never locked out by the pipeline's writer. Returns rows per table.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        with connect(warehouse) as con:
            con.execute(f"attach '{staging}' as publish")
            tables = con.execute(
                f"""select schema_name, table_name from duckdb_tables()
                    where database_name = current_database()
                      and schema_name in ({", ".join("?" for _ in schemas)})
                    order by 1, 2""",
                list(schemas),
            ).fetchall()
            for schema in schemas:
                con.execute(f"create schema if not exists publish.{schema}")
            for schema, table in tables:
                con.execute(
                    f'create table publish.{schema}."{table}" as select * from {schema}."{table}"'
                )
                (rows[f"{schema}.{table}"],) = con.execute(
                    f'select count(*) from publish.{schema}."{table}"'
                ).fetchone()
            con.execute("detach publish")
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return rows
