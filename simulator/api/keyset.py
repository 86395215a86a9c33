"""Keyset paging in DuckDB SQL, so no request ever pays for a big OFFSET.

Two building blocks:

* :func:`after` / :func:`before` turn a position in an ORDER BY (the sort-key values of
  one row) into a SQL predicate, honouring ASC/DESC and NULLS FIRST/LAST. Salesforce
  locators carry such a position directly.
* :class:`Pager` serves numbered pages (Harvest ``page``, NetSuite ``offset``). When a
  traversal starts (first page) it computes, in one window query, the sort key of the
  first row of every page ("anchors") and keeps only those in memory (at most
  ``max_anchors`` per query, so memory tracks the number of pages, never the rows).
  A page is then a range scan between two anchors. Because pages are half-open key
  ranges, every row present throughout a traversal is served exactly once even if rows
  are inserted or deleted meanwhile (pages just get slightly longer or shorter).

All SQL fragments given to this module must be trusted (built by the parsers from
validated identifiers); only values travel as ``?`` parameters.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

Params = list[Any]


@dataclass(frozen=True)
class OrderKey:
    sql: str
    """A trusted SQL expression over the base table."""
    desc: bool = False
    nulls_first: bool = False

    def clause(self) -> str:
        direction = "DESC" if self.desc else "ASC"
        nulls = "FIRST" if self.nulls_first else "LAST"
        return f"{self.sql} {direction} NULLS {nulls}"

    def reversed(self) -> OrderKey:
        return OrderKey(self.sql, not self.desc, not self.nulls_first)


def order_by(keys: tuple[OrderKey, ...]) -> str:
    return ", ".join(k.clause() for k in keys)


def _eq(key: OrderKey, value: Any, params: Params) -> str:
    if value is None:
        return f"({key.sql}) IS NULL"
    params.append(value)
    return f"({key.sql}) = ?"


def _after_one(key: OrderKey, value: Any, params: Params) -> str | None:
    """Rows whose key sorts strictly after ``value`` (None: no row can)."""
    if value is None:
        return f"({key.sql}) IS NOT NULL" if key.nulls_first else None
    params.append(value)
    cond = f"({key.sql}) {'<' if key.desc else '>'} ?"
    return cond if key.nulls_first else f"({cond} OR ({key.sql}) IS NULL)"


def _hint_after(key: OrderKey, value: Any, params: Params) -> str | None:
    """A redundant plain range on the first key so DuckDB can prune row groups."""
    if value is None or not key.nulls_first:
        return None
    params.append(value)
    return f"({key.sql}) {'<=' if key.desc else '>='} ?"


def after(
    keys: tuple[OrderKey, ...], values: tuple[Any, ...], inclusive: bool
) -> tuple[str, Params]:
    """Predicate for rows after (or at, when ``inclusive``) the position ``values``."""
    params: Params = []
    hint = _hint_after(keys[0], values[0], params)
    terms: list[str] = []
    for i, key in enumerate(keys):
        term_params: Params = []
        parts = [_eq(keys[j], values[j], term_params) for j in range(i)]
        cond = _after_one(key, values[i], term_params)
        if cond is None:
            continue
        parts.append(cond)
        terms.append("(" + " AND ".join(parts) + ")")
        params.extend(term_params)
    if inclusive:
        parts = [_eq(k, v, params) for k, v in zip(keys, values, strict=True)]
        terms.append("(" + " AND ".join(parts) + ")")
    body = "(" + " OR ".join(terms) + ")" if terms else "FALSE"
    return (f"{hint} AND {body}" if hint else body), params


def before(keys: tuple[OrderKey, ...], values: tuple[Any, ...]) -> tuple[str, Params]:
    """Predicate for rows strictly before the position ``values``."""
    # Strictly before in an order == strictly after in the fully reversed order.
    return after(tuple(k.reversed() for k in keys), values, inclusive=False)


@dataclass(frozen=True)
class Source:
    """A filtered, totally ordered row set: the thing being paged."""

    table_sql: str
    where_sql: str
    params: tuple[Any, ...]
    order: tuple[OrderKey, ...]
    """Must end with a unique tiebreak so the order is total."""


@dataclass(frozen=True)
class _Plan:
    total: int
    page_count: int
    stride: int
    anchors: tuple[tuple[Any, ...], ...]
    """Sort key of the first row of pages 0, stride, 2*stride, ..."""


@dataclass
class PageSlice:
    rows: list[tuple[Any, ...]]
    total: int
    page_count: int
    previous_row: tuple[Any, ...] | None = None
    """The last row of the previous page (only when asked for)."""


class Pager:
    """Numbered pages over a :class:`Source` via cached page anchors (see module doc)."""

    def __init__(self, max_queries: int = 64, max_anchors: int = 4096, growth_cap: int = 10):
        self._plans: OrderedDict[tuple[Any, ...], _Plan] = OrderedDict()
        self._lock = threading.Lock()
        self._max_queries = max_queries
        self._max_anchors = max_anchors
        self._growth_cap = growth_cap
        """A page may grow through inserts during a traversal; never beyond cap * size."""

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def fetch(
        self,
        cur: duckdb.DuckDBPyConnection,
        src: Source,
        select_sql: str,
        size: int,
        index: int,
        phase: int = 0,
        refresh: bool = False,
        with_previous: bool = False,
    ) -> PageSlice:
        """Rows of page ``index`` (0-based) where page i starts at row ``phase + i*size``."""
        plan = self._plan(cur, src, size, phase, refresh)
        if index >= plan.page_count:
            return PageSlice([], plan.total, plan.page_count)
        rows = self._page_rows(cur, src, select_sql, plan, size, index, phase)
        previous = None
        if with_previous and index > 0:
            previous = self._previous_row(cur, src, select_sql, plan, size, index)
        return PageSlice(rows, plan.total, plan.page_count, previous)

    # -- planning -----------------------------------------------------------------------

    def _plan(
        self, cur: duckdb.DuckDBPyConnection, src: Source, size: int, phase: int, refresh: bool
    ) -> _Plan:
        cache_key = (src, size, phase)
        if not refresh:
            with self._lock:
                plan = self._plans.get(cache_key)
                if plan is not None:
                    self._plans.move_to_end(cache_key)
                    return plan
        plan = self._compute_plan(cur, src, size, phase)
        with self._lock:
            self._plans[cache_key] = plan
            self._plans.move_to_end(cache_key)
            while len(self._plans) > self._max_queries:
                self._plans.popitem(last=False)
        return plan

    def _compute_plan(
        self, cur: duckdb.DuckDBPyConnection, src: Source, size: int, phase: int
    ) -> _Plan:
        cur.execute("BEGIN TRANSACTION")  # count and anchors from one snapshot
        try:
            (total,) = cur.execute(
                f"SELECT count(*) FROM {src.table_sql} WHERE {src.where_sql}", src.params
            ).fetchone()  # type: ignore[misc]
            remaining = max(0, total - phase)
            page_count = -(-remaining // size)
            stride = max(1, -(-page_count // self._max_anchors))
            anchors: list[tuple[Any, ...]] = []
            if page_count:
                key_cols = ", ".join(f"{k.sql} AS __k{i}" for i, k in enumerate(src.order))
                key_names = ", ".join(f"__k{i}" for i in range(len(src.order)))
                step = size * stride
                sql = (
                    f"SELECT {key_names} FROM (SELECT {key_cols}, row_number() OVER "
                    f"(ORDER BY {order_by(src.order)}) AS __rn FROM {src.table_sql} "
                    f"WHERE {src.where_sql}) WHERE __rn > {phase:d} "
                    f"AND (__rn - 1 - {phase:d}) % {step:d} = 0 ORDER BY __rn"
                )
                anchors = [tuple(r) for r in cur.execute(sql, src.params).fetchall()]
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return _Plan(total, page_count, stride, tuple(anchors))

    # -- pages --------------------------------------------------------------------------

    def _range(self, src: Source, plan: _Plan, group: int, phase: int) -> tuple[str, Params]:
        """Predicate for the key range of anchor group ``group``."""
        conds: list[str] = []
        params: Params = []
        if group > 0 or phase > 0:
            cond, p = after(src.order, plan.anchors[group], inclusive=True)
            conds.append(cond)
            params.extend(p)
        if group + 1 < len(plan.anchors):
            cond, p = before(src.order, plan.anchors[group + 1])
            conds.append(cond)
            params.extend(p)
        return (" AND ".join(conds) or "TRUE"), params

    def _page_rows(
        self,
        cur: duckdb.DuckDBPyConnection,
        src: Source,
        select_sql: str,
        plan: _Plan,
        size: int,
        index: int,
        phase: int,
    ) -> list[tuple[Any, ...]]:
        group, within = divmod(index, plan.stride)
        range_sql, range_params = self._range(src, plan, group, phase)
        # Only the last page before the next anchor may absorb rows inserted meanwhile.
        last_in_group = within == plan.stride - 1 or index == plan.page_count - 1
        limit = size * self._growth_cap if last_in_group else size
        sql = (
            f"SELECT {select_sql} FROM {src.table_sql} WHERE ({src.where_sql}) AND {range_sql} "
            f"ORDER BY {order_by(src.order)} LIMIT {limit:d} OFFSET {within * size:d}"
        )
        return [tuple(r) for r in cur.execute(sql, [*src.params, *range_params]).fetchall()]

    def _previous_row(
        self,
        cur: duckdb.DuckDBPyConnection,
        src: Source,
        select_sql: str,
        plan: _Plan,
        size: int,
        index: int,
    ) -> tuple[Any, ...] | None:
        group, within = divmod(index, plan.stride)
        if within == 0:
            cond, params = before(src.order, plan.anchors[group])
            rev = tuple(k.reversed() for k in src.order)
            sql = (
                f"SELECT {select_sql} FROM {src.table_sql} WHERE ({src.where_sql}) AND {cond} "
                f"ORDER BY {order_by(rev)} LIMIT 1"
            )
        else:
            cond, params = after(src.order, plan.anchors[group], inclusive=True)
            sql = (
                f"SELECT {select_sql} FROM {src.table_sql} WHERE ({src.where_sql}) AND {cond} "
                f"ORDER BY {order_by(src.order)} LIMIT 1 OFFSET {within * size - 1:d}"
            )
        row = cur.execute(sql, [*src.params, *params]).fetchone()
        return tuple(row) if row is not None else None
