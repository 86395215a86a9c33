"""A thin layer over the DuckDB connection: typed bulk writes, change counts, meta.

All writes go through `Store` so that `advance` can report how many rows it inserted,
updated and deleted per table, and so that every bulk write casts to the storage
contract's column types (schema.py) instead of trusting pandas' inference.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd

from simulator import schema

from . import ids

TABLES: dict[str, schema.Table] = {t.name: t for t in schema.ALL_TABLES}

# Sequences that continue across generate/advance (kept in sim_meta), with first values.
SEQUENCE_STARTS = {
    "ns_transaction": ids.NS_TRANSACTION,
    "ns_uniquekey": ids.NS_UNIQUEKEY,
    "ns_customer_extra": 0,
    "sf_account_extra": 0,
    "hv_time_entry": ids.HV_TIME_ENTRY,
    "hv_expense": ids.HV_EXPENSE,
    **{f"tranid_{kind}": first for kind, (_, first) in ids.TRANID.items()},
}


def _q(col: str) -> str:
    return f'"{col}"'


class Store:
    def __init__(self, con: Any) -> None:
        self.con = con
        self.inserted: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.deleted: Counter[str] = Counter()
        self.meta: dict[str, str] = {}
        self.sequences: dict[str, int] = dict(SEQUENCE_STARTS)

    # --- meta ----------------------------------------------------------------------
    def load_meta(self) -> dict[str, str]:
        rows = self.con.execute("select key, value from sim_meta").fetchall()
        self.meta = dict(rows)
        if "sequences" in self.meta:
            self.sequences.update(json.loads(self.meta["sequences"]))
        return self.meta

    def save_meta(self, **values: str) -> None:
        self.meta.update(values)
        self.meta["sequences"] = json.dumps(self.sequences, sort_keys=True)
        self.con.execute("delete from sim_meta")
        self.con.executemany("insert into sim_meta values (?, ?)", sorted(self.meta.items()))

    def json_meta(self, key: str, default: Any) -> Any:
        return json.loads(self.meta[key]) if key in self.meta else default

    def next_ids(self, name: str, n: int) -> range:
        """Reserve `n` consecutive values of a persistent sequence."""
        first = self.sequences[name]
        self.sequences[name] = first + n
        return range(first, first + n)

    # --- reads ---------------------------------------------------------------------
    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    # --- writes --------------------------------------------------------------------
    def _select(self, table: schema.Table, cols: list[str]) -> str:
        types = dict(table.columns)
        return ", ".join(f"cast(src.{_q(c)} as {types[c]}) as {_q(c)}" for c in cols)

    def insert(self, table_name: str, frame: pd.DataFrame | Any) -> int:
        """Insert a pandas frame or Arrow table; columns missing from it are NULL."""
        n = len(frame)
        if n == 0:
            return 0
        table = TABLES[table_name]
        present = set(frame.columns) if isinstance(frame, pd.DataFrame) else set(frame.column_names)
        cols = [c for c in table.column_names if c in present]
        self.con.register("_firm_src", frame)
        try:
            self.con.execute(
                f"insert into {table.name} ({', '.join(map(_q, cols))}) "
                f"select {self._select(table, cols)} from _firm_src src"
            )
        finally:
            self.con.unregister("_firm_src")
        self.inserted[table_name] += n
        return n

    def update(self, table_name: str, frame: pd.DataFrame, key: list[str], cols: list[str]) -> int:
        """Set `cols` from `frame` on the rows matching `key` (a bulk UPDATE ... FROM)."""
        if len(frame) == 0:
            return 0
        table = TABLES[table_name]
        types = dict(table.columns)
        sets = ", ".join(f"{_q(c)} = cast(src.{_q(c)} as {types[c]})" for c in cols)
        where = " and ".join(f"{table.name}.{_q(k)} = src.{_q(k)}" for k in key)
        self.con.register("_firm_src", frame)
        try:
            self.con.execute(f"update {table.name} set {sets} from _firm_src src where {where}")
        finally:
            self.con.unregister("_firm_src")
        self.updated[table_name] += len(frame)
        return len(frame)

    def execute(
        self,
        sql: str,
        params: list | None = None,
        *,
        table: str | None = None,
        kind: str = "updated",
    ) -> int:
        """Run a write statement; count its affected rows against `table` if given."""
        result = self.con.execute(sql, params or []).fetchone()
        n = int(result[0]) if result and result[0] is not None else 0
        if table:
            getattr(self, kind)[table] += n
        return n
