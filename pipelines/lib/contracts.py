"""Record contracts: how one API page becomes one Arrow table, and which records it refuses.

A contract names every field a resource loads, its wire path and its type. A page is
converted column-wise by Arrow (fast path); a record that breaks the contract (missing
key, wrong type, unknown currency, negative hours) is split off with its reason and its
raw payload, so the rest of the page still loads and nothing is dropped silently.

Money is never a float: a page is parsed with every JSON number that has a fraction read
as a Decimal (`parse_page`), so amounts reach Arrow exact, and Arrow refuses a fraction or a
boolean where an integer or an amount belongs instead of truncating it (1.5 -> 1, true ->
1.0). NetSuite's text numbers stay text until staging.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

CURRENCIES_SINCE = date(2000, 1, 1)


def _currencies_in_circulation(since: date) -> frozenset[str]:
    """ISO 4217 codes that were legal tender somewhere on or after ``since``, from the Unicode
    CLDR data Babel ships (kept current by Babel's releases: XCG and ZWG are in, and HRK, which
    Croatia's books before 2023 are in, still counts)."""
    from babel.core import get_global

    return frozenset(
        code
        for currencies in get_global("territory_currencies").values()
        for code, _start, end, tender in currencies
        if tender and (end is None or date(*end) >= since)
    )


ISO_CURRENCIES = _currencies_in_circulation(CURRENCIES_SINCE)
"""A record whose currency is not one of these is quarantined."""

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "rate": pa.decimal128(18, 6),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}

# What Arrow is given to read a JSON value of each kind, before the exact cast. Numbers are
# read as decimals: Arrow takes a Python int or Decimal there and refuses a float or a bool,
# where int64 or float64 would truncate 1.5 to 1 or read true as 1.0 without a word.
_WIRE_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.decimal128(38, 0),
    "decimal": pa.decimal128(38, 10),
    "rate": pa.decimal128(38, 10),
    "bool": pa.bool_(),
    "date": pa.string(),
    "timestamp": pa.string(),
    "json": pa.string(),
}


@dataclass(frozen=True)
class Field:
    name: str
    """Column name in the raw table."""
    kind: str
    """One of str, int, decimal, rate, bool, date, timestamp, json."""
    path: tuple[str, ...] = ()
    """Path in the wire record; defaults to ``(name,)``."""

    @property
    def wire_path(self) -> tuple[str, ...]:
        return self.path or (self.name,)


@dataclass(frozen=True)
class Contract:
    resource: str
    fields: tuple[Field, ...]
    primary_key: str | tuple[str, ...]
    text_wire: bool = False
    """True where the vendor sends every value as text (NetSuite): values stay text and are
    only checked for being parseable; staging casts them."""
    currencies: tuple[str, ...] = ()
    """Fields that must hold an ISO 4217 code."""
    non_negative: tuple[str, ...] = ()
    """Fields that must not be negative (hours, quantities)."""
    required: tuple[str, ...] = ()
    """Fields besides the primary key that must be present."""
    cursor: str | None = None
    """The incremental cursor: a record without it could never be synced again, so it is required."""

    @property
    def required_fields(self) -> tuple[str, ...]:
        return self.required + ((self.cursor,) if self.cursor else ())

    def stored_kind(self, f: Field) -> str:
        """Text-wire values stay text, but for timestamps: those are q2c's own TO_CHAR cursors."""
        return "str" if self.text_wire and f.kind != "timestamp" else f.kind

    @property
    def arrow_schema(self) -> pa.Schema:
        # Keys are declared non-null, as dlt declares primary keys; records without one are
        # quarantined before a table is published.
        return pa.schema(
            [
                pa.field(
                    f.name, _ARROW_TYPES[self.stored_kind(f)], nullable=f.name not in self.keys
                )
                for f in self.fields
            ]
        )

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.primary_key,) if isinstance(self.primary_key, str) else self.primary_key

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.wire_path[0] for f in self.fields)


@dataclass
class PageResult:
    table: pa.Table
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    new_fields: set[str] = field(default_factory=set)


def _timestamps(values: pa.Array) -> pa.Array:
    """ISO text to UTC timestamps; text without an offset (NetSuite's TO_CHAR) is UTC."""
    try:
        return pc.cast(values, _ARROW_TYPES["timestamp"])
    except pa.ArrowInvalid:
        return pc.assume_timezone(pc.cast(values, pa.timestamp("us")), "UTC")


def _cast(values: pa.Array, kind: str) -> pa.Array:
    target = _ARROW_TYPES[kind]
    if values.type == target:
        return values
    return _timestamps(values) if kind == "timestamp" else pc.cast(values, target)


class RecordError(ValueError):
    """A record broke its contract; the message is the quarantine reason."""


def parse_page(content: bytes | str) -> Any:
    """An API response body as the contracts read it: numbers with a fraction as Decimal."""
    return json.loads(content, parse_float=Decimal)


def _number(value: Any) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """A wire value written back as compact JSON text, numbers as numbers (a json field, a
    field the contract does not know, the payload of a quarantined record)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_number)


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _check_value(value: Any, f: Field, text_wire: bool) -> Any:
    """Validate one value and return it in its storage form (slow path only)."""
    if value is None:
        return None
    kind = f.kind
    try:
        # The fast path's own rules, for one value: a record is refused here exactly when
        # it would make the page's conversion fail.
        if text_wire:
            _check_text(pa.array([value], pa.string()), f)
            return value
        if kind == "json":
            return to_json(value)
        stored = _cast(pa.array([value], _WIRE_TYPES[kind]), kind)
        return stored[0].as_py() if kind in ("int", "decimal", "rate") else value
    except (TypeError, ValueError, ArithmeticError, pa.ArrowException):
        pass
    raise RecordError(f"wrong type: {f.name}={value!r} is not a valid {kind}")


def _wire_leaf_type(f: Field, contract: Contract) -> pa.DataType:
    return pa.string() if contract.stored_kind(f) != f.kind else _WIRE_TYPES[f.kind]


@functools.cache
def _wire_struct(contract: Contract) -> pa.StructType | None:
    """The wire shape of one record as an Arrow struct, so Arrow converts a whole page of
    parsed JSON in C++ instead of Python visiting every value. ``json`` fields are left
    out (they are re-serialized in Python); None where two fields' paths collide."""
    tree: dict[str, Any] = {}
    for f in contract.fields:
        if f.kind == "json":
            continue
        *parents, leaf = f.wire_path
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                return None
        if leaf in node:
            return None
        node[leaf] = _wire_leaf_type(f, contract)

    def build(node: dict[str, Any]) -> pa.StructType:
        return pa.struct(
            [pa.field(k, build(v) if isinstance(v, dict) else v) for k, v in node.items()]
        )

    return build(tree)


def _leaf(array: pa.StructArray, path: tuple[str, ...]) -> pa.Array:
    """One wire path of a struct array; a null parent makes its children null."""
    for key in path:
        array = array.flatten()[array.type.get_field_index(key)]
    return array


def _wire_columns(records: Sequence[dict[str, Any]], contract: Contract) -> dict[str, pa.Array]:
    """Each field's wire values as one Arrow array in its wire type; raises on any value
    Arrow cannot read as its kind."""
    struct = _wire_struct(contract)
    page = pa.array(records, type=struct) if struct is not None else None
    columns: dict[str, pa.Array] = {}
    for f in contract.fields:
        if f.kind == "json":
            values = (_dig(r, f.wire_path) for r in records)
            columns[f.name] = pa.array(
                [None if v is None else to_json(v) for v in values], pa.string()
            )
        elif page is not None:
            columns[f.name] = _leaf(page, f.wire_path)
        else:
            values = [_dig(r, f.wire_path) for r in records]
            columns[f.name] = pa.array(values, _wire_leaf_type(f, contract))
    return columns


def _check_text(arr: pa.Array, f: Field) -> None:
    """NetSuite's text numbers and T/F flags stay text; their parseability is checked by a
    cast that is thrown away. Raises on any value that is not one."""
    if f.kind in ("int", "decimal", "rate"):
        pc.cast(arr, pa.decimal128(38, 10) if f.kind != "int" else pa.int64())
    elif f.kind == "date":
        pc.strptime(arr, format="%Y-%m-%d", unit="s")  # ISO, as the queries ask for it
    elif (
        f.kind == "bool"
        and not pc.all(pc.or_kleene(pc.is_in(arr, pa.array(["T", "F"])), pc.is_null(arr))).as_py()
    ):
        raise pa.ArrowInvalid(f"{f.name} holds a value other than T/F")


def _fast_table(records: Sequence[dict[str, Any]], contract: Contract) -> pa.Table:
    """Column-wise conversion; raises on any value Arrow cannot read as its kind."""
    columns = _wire_columns(records, contract)
    arrays = []
    for f in contract.fields:
        arr = columns[f.name]
        if contract.stored_kind(f) != f.kind:
            _check_text(arr, f)
            arrays.append(arr)
            continue
        arrays.append(_cast(arr, f.kind))
    return pa.Table.from_arrays(arrays, schema=contract.arrow_schema)


def _rule_violations(record: dict[str, Any], contract: Contract) -> str | None:
    """The business rules of the contract that are not about types."""
    by_name = {f.name: f for f in contract.fields}
    for name in contract.keys:
        if _dig(record, by_name[name].wire_path) in (None, ""):
            return f"missing key: {name}"
    for name in contract.required_fields:
        if _dig(record, by_name[name].wire_path) in (None, ""):
            return f"missing required field: {name}"
    for name in contract.currencies:
        value = _dig(record, by_name[name].wire_path)
        if value is not None and value not in ISO_CURRENCIES:
            return f"unknown currency: {name}={value!r}"
    for name in contract.non_negative:
        value = _dig(record, by_name[name].wire_path)
        try:
            if value is not None and Decimal(str(value)) < 0:
                return f"negative value: {name}={value!r}"
        except ArithmeticError:
            pass  # a type problem, reported by the type check
    return None


def _fast_rule_mask(table: pa.Table, contract: Contract) -> pa.Array:
    """True for rows that pass the non-type rules, computed column-wise."""
    ok = pa.array([True] * table.num_rows, pa.bool_())
    for name in contract.keys:
        ok = pc.and_(ok, pc.is_valid(table[name]))
        if pa.types.is_string(table.schema.field(name).type):
            ok = pc.and_(ok, pc.not_equal(table[name], ""))
    for name in contract.required_fields:
        ok = pc.and_(ok, pc.is_valid(table[name]))
    for name in contract.currencies:
        col = table[name]
        good = pc.or_kleene(pc.is_null(col), pc.is_in(col, pa.array(sorted(ISO_CURRENCIES))))
        ok = pc.and_(ok, good)
    for name in contract.non_negative:
        col = table[name]
        if contract.text_wire:
            col = pc.cast(col, pa.decimal128(38, 10))
        ok = pc.and_(ok, pc.or_kleene(pc.is_null(col), pc.greater_equal(col, 0)))
    return pc.fill_null(ok, False)


def quarantine_row(
    record: dict[str, Any], contract: Contract, source: str, reason: str
) -> dict[str, Any]:
    by_name = {f.name: f for f in contract.fields}
    key = [_dig(record, by_name[name].wire_path) for name in contract.keys]
    return {
        "source": source,
        "resource": contract.resource,
        "record_id": None if None in key else "|".join(str(k) for k in key),
        "reason": reason,
        "payload": to_json(record),
    }


def convert_page(records: Sequence[dict[str, Any]], contract: Contract, source: str) -> PageResult:
    """Turn one page of wire records into an Arrow table plus quarantined records."""
    seen: set[str] = set()
    for r in records:
        seen.update(r.keys())
    new_fields = {k for k in seen - contract.field_names if k not in ("attributes", "links")}
    try:
        table = _fast_table(records, contract)
    except (pa.ArrowException, TypeError, ValueError, ArithmeticError):
        return _slow_page(records, contract, source, new_fields)
    table = _with_new_fields(table, records, new_fields)
    rule = _fast_rule_mask(table, contract)
    kept, conflicting = _duplicates(table, records, contract, source)
    mask = rule if kept is None else pc.and_(rule, kept)
    if pc.all(mask).as_py():
        return PageResult(table, [], new_fields)
    quarantined = [
        quarantine_row(records[i], contract, source, _rule_violations(records[i], contract) or "")
        for i, good in enumerate(rule.to_pylist())
        if not good and i not in conflicting
    ]
    return PageResult(table.filter(mask), quarantined + list(conflicting.values()), new_fields)


DUPLICATE_REASON = "the same id twice in one page with different content"


def _duplicates(
    table: pa.Table, records: Sequence[dict[str, Any]], contract: Contract, source: str
) -> tuple[pa.Array | None, dict[int, dict[str, Any]]]:
    """A page that holds one id twice: exact copies are one record; copies that differ are
    a conflict no rule can settle, and every copy is quarantined with its payload. Returns the
    rows to keep (None: every row, the usual case, decided by Arrow alone) and the quarantine
    rows of those refused, by their place in the page. ``table``'s rows are ``records``, in
    order."""
    keys = table.select(list(contract.keys))
    if keys.num_rows < 2:
        return None, {}
    counts = keys.group_by(list(contract.keys)).aggregate([([], "count_all")])
    if pc.max(counts["count_all"]).as_py() <= 1:
        return None, {}
    rows: dict[tuple[Any, ...], list[int]] = {}
    for i, key in enumerate(zip(*(keys[k].to_pylist() for k in contract.keys), strict=True)):
        if None not in key:
            rows.setdefault(key, []).append(i)
    keep = [True] * table.num_rows
    refused: dict[int, dict[str, Any]] = {}
    for copies in rows.values():
        if len(copies) < 2:
            continue
        if len({to_json(records[i]) for i in copies}) == 1:
            for i in copies[1:]:
                keep[i] = False
            continue
        for i in copies:
            keep[i] = False
            reason = f"{DUPLICATE_REASON} ({len(copies)} copies, all refused)"
            refused[i] = quarantine_row(records[i], contract, source, reason)
    return pa.array(keep, pa.bool_()), refused


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return to_json(value)


def _with_new_fields(
    table: pa.Table, records: Sequence[dict[str, Any]], new_fields: set[str]
) -> pa.Table:
    """Schema drift is taken in: a field the contract does not know loads as text."""
    for name in sorted(new_fields):
        values = [_as_text(r.get(name)) for r in records]
        table = table.append_column(pa.field(name, pa.string()), pa.array(values, pa.string()))
    return table


def _slow_page(
    records: Sequence[dict[str, Any]], contract: Contract, source: str, new_fields: set[str]
) -> PageResult:
    """Record by record: used only for a page that holds at least one bad value."""
    good: list[dict[str, Any]] = []
    good_records: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for record in records:
        try:
            reason = _rule_violations(record, contract)
            if reason:
                raise RecordError(reason)
            row = {
                f.name: _check_value(
                    _dig(record, f.wire_path), f, contract.stored_kind(f) != f.kind
                )
                for f in contract.fields
            }
        except RecordError as exc:
            quarantined.append(quarantine_row(record, contract, source, str(exc)))
            continue
        good.append(row)
        good_records.append(record)
    table = _with_new_fields(_fast_table_from_rows(good, contract), good_records, new_fields)
    kept, conflicting = _duplicates(table, good_records, contract, source)
    if kept is not None:
        table = table.filter(kept)
    return PageResult(table, quarantined + list(conflicting.values()), new_fields)


def _fast_table_from_rows(rows: list[dict[str, Any]], contract: Contract) -> pa.Table:
    arrays = []
    for f in contract.fields:
        values = [r[f.name] for r in rows]
        if contract.stored_kind(f) != f.kind or f.kind in ("str", "json"):
            arrays.append(pa.array(values, pa.string()))
        elif f.kind in ("date", "timestamp"):
            arrays.append(_cast(pa.array(values, pa.string()), f.kind))
        else:
            arrays.append(pa.array(values, _ARROW_TYPES[f.kind]))
    return pa.Table.from_arrays(arrays, schema=contract.arrow_schema)
