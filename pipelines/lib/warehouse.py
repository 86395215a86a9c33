"""Opening the DuckDB warehouse: one function, so every reader and writer agrees on how."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is always closed, so the next writer (dlt, dbt, GX) can open the file."""
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()
