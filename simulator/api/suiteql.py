"""A real parser for the SuiteQL subset the connectors use, compiled to DuckDB SQL.

Nothing from the client is passed through as SQL: the query is tokenised, parsed into a
small AST, every identifier is resolved against ``schema.NETSUITE`` and every literal is
re-rendered from its parsed value. Oracle semantics that matter on the wire are kept:
``'T'``/``'F'`` booleans, ``TO_CHAR``/``TO_DATE``/``TO_TIMESTAMP`` with Oracle format
models, and NULLS LAST for ascending (NULLS FIRST for descending) order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.api.keyset import OrderKey
from simulator.api.lexer import Token, tokenize
from simulator.schema import NETSUITE, Table

ERROR_PREFIX = "Invalid search query. Detailed unprocessed description follows. "


class SuiteQLError(Exception):
    """A query NetSuite rejects with 400 INVALID_PARAMETER."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = ERROR_PREFIX + "Search error occurred: " + detail


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|<>|!=|\^=|=|<|>)
  | (?P<punct>[(),.*;-])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_$#]*)
    """,
    re.VERBOSE,
)

_RESERVED = {
    "select", "from", "where", "and", "or", "not", "in", "is", "null", "like", "between",
    "order", "by", "asc", "desc", "nulls", "first", "last", "as", "distinct", "group",
    "having", "union", "join", "inner", "left", "right", "full", "outer", "cross", "on",
    "fetch", "offset", "with", "case", "when", "then", "else", "end", "exists", "escape",
    "minus", "intersect", "all", "any", "some", "insert", "update", "delete", "merge",
    "into", "values", "set", "connect", "start", "prior", "unique",
}  # fmt: skip


def _tokenize(text: str) -> list[Token]:
    return tokenize(
        text,
        _TOKEN,
        lambda pos: SuiteQLError(f"Unexpected character at position {pos + 1}: '{text[pos]}'."),
    )


# -- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    qualifier: str | None
    name: str


@dataclass(frozen=True)
class Lit:
    kind: str
    """string / number / null."""
    value: Any


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Star:
    qualifier: str | None


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class IsNull:
    expr: Any
    negated: bool


@dataclass(frozen=True)
class InList:
    expr: Any
    items: tuple[Any, ...]
    negated: bool


@dataclass(frozen=True)
class Between:
    expr: Any
    low: Any
    high: Any
    negated: bool


@dataclass(frozen=True)
class Like:
    expr: Any
    pattern: Any
    escape: str | None
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str
    """AND / OR."""
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    expr: Any


@dataclass(frozen=True)
class SelectItem:
    expr: Any
    alias: str | None


@dataclass(frozen=True)
class OrderItem:
    expr: Any
    desc: bool
    nulls_first: bool | None


@dataclass(frozen=True)
class _Ast:
    items: tuple[SelectItem, ...]
    table: str
    alias: str | None
    where: Any | None
    order: tuple[OrderItem, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, what: str = "") -> SuiteQLError:
        tok = self.tok
        near = "end of query" if tok.kind == "eof" else f"'{tok.text}'"
        return SuiteQLError(
            f"Invalid or unsupported search. Syntax error near {near} at position {tok.pos + 1}"
            + (f": {what}." if what else ".")
        )

    def expect_kw(self, word: str) -> None:
        if not self.tok.is_kw(word):
            raise self.fail(f"expected {word.upper()}")
        self.advance()

    def expect_punct(self, text: str) -> None:
        if not self.tok.is_punct(text):
            raise self.fail(f"expected '{text}'")
        self.advance()

    def name(self) -> str:
        tok = self.tok
        if tok.kind != "ident" or tok.word in _RESERVED:
            raise self.fail("expected an identifier")
        self.advance()
        return tok.text

    # -- statement ----------------------------------------------------------------------

    def parse(self) -> _Ast:
        if not self.tok.is_kw("select"):
            word = self.tok.text.upper() or "empty query"
            raise SuiteQLError(
                f"Invalid or unsupported search. Only SELECT statements are allowed, got {word}."
            )
        self.advance()
        if self.tok.is_kw("distinct", "unique", "all"):
            raise self.fail("DISTINCT is not supported")
        items = [self.select_item()]
        while self.tok.is_punct(","):
            self.advance()
            items.append(self.select_item())
        self.expect_kw("from")
        if self.tok.is_punct("("):
            raise self.fail("subqueries are not supported")
        table = self.name()
        alias = None
        if self.tok.is_kw("as"):
            self.advance()
            alias = self.name()
        elif self.tok.kind == "ident" and self.tok.word not in _RESERVED:
            alias = self.name()
        if self.tok.is_punct(",") or self.tok.is_kw(
            "join", "inner", "left", "right", "full", "cross"
        ):
            raise self.fail("joins are not supported")
        where = None
        if self.tok.is_kw("where"):
            self.advance()
            where = self.or_expr()
        order: list[OrderItem] = []
        if self.tok.is_kw("order"):
            self.advance()
            self.expect_kw("by")
            order.append(self.order_item())
            while self.tok.is_punct(","):
                self.advance()
                order.append(self.order_item())
        if self.tok.kind != "eof":
            raise self.fail("unexpected trailing input")
        return _Ast(tuple(items), table, alias, where, tuple(order))

    def select_item(self) -> SelectItem:
        if self.tok.is_punct("*"):
            self.advance()
            return SelectItem(Star(None), None)
        expr = self.value()
        alias = None
        if self.tok.is_kw("as"):
            self.advance()
            alias = self.name()
        elif self.tok.kind == "ident" and self.tok.word not in _RESERVED:
            alias = self.name()
        return SelectItem(expr, alias)

    def order_item(self) -> OrderItem:
        expr = self.value()
        desc = False
        if self.tok.is_kw("asc", "desc"):
            desc = self.advance().word == "desc"
        nulls_first = None
        if self.tok.is_kw("nulls"):
            self.advance()
            if not self.tok.is_kw("first", "last"):
                raise self.fail("expected FIRST or LAST")
            nulls_first = self.advance().word == "first"
        return OrderItem(expr, desc, nulls_first)

    # -- conditions ---------------------------------------------------------------------

    def or_expr(self) -> Any:
        parts = [self.and_expr()]
        while self.tok.is_kw("or"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def and_expr(self) -> Any:
        parts = [self.not_expr()]
        while self.tok.is_kw("and"):
            self.advance()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def not_expr(self) -> Any:
        if self.tok.is_kw("not"):
            self.advance()
            return Not(self.not_expr())
        if self.tok.is_kw("exists"):
            raise self.fail("subqueries are not supported")
        return self.predicate()

    def predicate(self) -> Any:
        left = self.value()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            op = {"!=": "<>", "^=": "<>"}.get(tok.text, tok.text)
            if self.tok.is_kw("any", "some", "all"):
                raise self.fail("quantified comparisons are not supported")
            return Cmp(op, left, self.value())
        if tok.is_kw("is"):
            self.advance()
            negated = False
            if self.tok.is_kw("not"):
                self.advance()
                negated = True
            self.expect_kw("null")
            return IsNull(left, negated)
        negated = False
        if tok.is_kw("not"):
            self.advance()
            negated = True
        if self.tok.is_kw("in"):
            self.advance()
            self.expect_punct("(")
            if self.tok.is_kw("select"):
                raise self.fail("subqueries are not supported")
            items = [self.value()]
            while self.tok.is_punct(","):
                self.advance()
                items.append(self.value())
            self.expect_punct(")")
            return InList(left, tuple(items), negated)
        if self.tok.is_kw("between"):
            self.advance()
            low = self.value()
            self.expect_kw("and")
            return Between(left, low, self.value(), negated)
        if self.tok.is_kw("like"):
            self.advance()
            pattern = self.value()
            escape = None
            if self.tok.is_kw("escape"):
                self.advance()
                esc = self.value()
                if not (isinstance(esc, Lit) and esc.kind == "string" and len(esc.value) == 1):
                    raise self.fail("ESCAPE needs a one-character string")
                escape = esc.value
            return Like(left, pattern, escape, negated)
        if negated:
            raise self.fail("expected IN, BETWEEN or LIKE after NOT")
        return left

    # -- values -------------------------------------------------------------------------

    def value(self) -> Any:
        tok = self.tok
        if tok.is_punct("("):
            self.advance()
            if self.tok.is_kw("select"):
                raise self.fail("subqueries are not supported")
            inner = self.or_expr()
            self.expect_punct(")")
            return inner
        if tok.is_punct("-") and self.tokens[self.i + 1].kind == "number":
            self.advance()
            return Lit("number", -Decimal(self.advance().text))
        if tok.kind == "number":
            self.advance()
            return Lit("number", Decimal(tok.text))
        if tok.kind == "string":
            self.advance()
            return Lit("string", tok.text[1:-1].replace("''", "'"))
        if tok.is_kw("null"):
            self.advance()
            return Lit("null", None)
        if tok.kind != "ident" or tok.word in _RESERVED:
            raise self.fail()
        self.advance()
        if self.tok.is_punct("("):
            self.advance()
            args: list[Any] = []
            if not self.tok.is_punct(")"):
                args.append(self.value())
                while self.tok.is_punct(","):
                    self.advance()
                    args.append(self.value())
            self.expect_punct(")")
            return Func(tok.word, tuple(args))
        if self.tok.is_punct("."):
            self.advance()
            if self.tok.is_punct("*"):
                self.advance()
                return Star(tok.text)
            return Col(tok.text, self.name())
        return Col(None, tok.text)


# -- Oracle format models --------------------------------------------------------------------

_FORMAT_ELEMENTS = (
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("YY", "%y"),
    ("AM", "%p"),
    ("PM", "%p"),
)
_FORMAT_SEPARATORS = set(" -/:,.;")


def oracle_format(model: str) -> str:
    """Translate an Oracle datetime format model to strftime/strptime codes."""
    out: list[str] = []
    i = 0
    while i < len(model):
        ch = model[i]
        if ch == '"':
            end = model.find('"', i + 1)
            if end < 0:
                raise SuiteQLError(f"Invalid date format '{model}': unterminated quoted text.")
            out.append(model[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if ch in _FORMAT_SEPARATORS:
            out.append(ch)
            i += 1
            continue
        for element, code in _FORMAT_ELEMENTS:
            if model[i : i + len(element)].upper() == element:
                out.append(code)
                i += len(element)
                break
        else:
            raise SuiteQLError(f"Invalid date format '{model}': element at '{model[i:]}'.")
    return "".join(out)


# -- compilation -------------------------------------------------------------------------------


def _kind_of(storage_type: str) -> str:
    t = storage_type.lower()
    if t.startswith(("decimal", "integer", "bigint", "double")):
        return "number"
    if t in ("boolean", "date", "timestamp"):
        return t
    return "varchar"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_number(value: Decimal) -> str:
    """A plain numeric literal; integral values stay integers so DuckDB can prune on them."""
    text = format(value, "f")
    return f"({text})" if text.startswith("-") else text


def _sql_timestamp(value: dt.datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


_DATE_INPUTS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")

_TIEBREAK: dict[str, tuple[str, ...]] = {
    # The declared key of these link tables is not unique on its own.
    "previoustransactionlinelink": (
        "previousdoc",
        "previousline",
        "nextdoc",
        "nextline",
        "linktype",
    ),
}


@dataclass(frozen=True)
class SuiteQuery:
    table: Table
    columns: tuple[tuple[str, str], ...]
    """(output key, trusted SQL expression) in SELECT order."""
    where_sql: str
    order: tuple[OrderKey, ...]
    """User ORDER BY (or none) followed by the primary key as the unique tiebreak."""


_TABLES = {name.lower(): table for name, table in NETSUITE.items()}


def resolve_table(name: str) -> Table | None:
    return _TABLES.get(name.lower())


class _Compiler:
    def __init__(self, ast: _Ast, field_names: Mapping[str, str | None] | None = None) -> None:
        table = resolve_table(ast.table)
        if table is None:
            raise SuiteQLError(f"Record '{ast.table}' was not found.")
        self.table = table
        self.names = {ast.table.lower()}
        if ast.alias:
            self.names.add(ast.alias.lower())
        # the account's name of each field -> (that name, stored column, kind): a custom
        # field is known by the script id the account gave it, never the stored name, and
        # a field the account does not have (renamed to None) is not known at all
        renamed = field_names or {}
        self.renamed = {name: renamed.get(name, name) for name in table.column_names}
        self.types = {
            vendor.lower(): (vendor, name, _kind_of(t))
            for (name, t), vendor in zip(table.columns, self.renamed.values(), strict=True)
            if vendor is not None
        }
        self.ast = ast

    def column(self, node: Col) -> tuple[str, str]:
        if node.qualifier is not None and node.qualifier.lower() not in self.names:
            raise SuiteQLError(f"Unknown identifier '{node.qualifier}.{node.name}'.")
        found = self.types.get(node.name.lower())
        if found is None:
            raise SuiteQLError(
                f"Field '{node.name}' for record '{self.table.vendor_object}' was not found. "
                "Reason: NOT_EXPOSED - Not available for channel SEARCH"
            )
        _, stored, kind = found
        return f'"{stored}"', kind

    # -- values -------------------------------------------------------------------------

    def value(self, node: Any, target: str | None = None) -> tuple[str, str]:
        """SQL and type of a value; literals are coerced towards ``target``'s type."""
        if isinstance(node, Col):
            return self.column(node)
        if isinstance(node, Lit):
            return self.literal(node, target)
        if isinstance(node, Func):
            return self.function(node)
        if isinstance(node, Star):
            raise SuiteQLError("Invalid or unsupported search. '*' is only allowed in SELECT.")
        raise SuiteQLError("Invalid or unsupported search. A condition was used as a value.")

    def literal(self, node: Lit, target: str | None) -> tuple[str, str]:
        if node.kind == "null":
            return "NULL", target or "varchar"
        if node.kind == "number":
            if target == "varchar":
                return _sql_string(str(node.value)), "varchar"
            return _sql_number(node.value), "number"
        text: str = node.value
        if target == "boolean":
            if text.upper() not in ("T", "F"):
                raise SuiteQLError(f"Invalid boolean value '{text}': use 'T' or 'F'.")
            return ("TRUE" if text.upper() == "T" else "FALSE"), "boolean"
        if target in ("date", "timestamp"):
            for fmt in _DATE_INPUTS:
                try:
                    return _sql_timestamp(dt.datetime.strptime(text.strip(), fmt)), "timestamp"
                except ValueError:
                    continue
            raise SuiteQLError(f"Invalid date value '{text}': expected M/D/YYYY.")
        if target == "number":
            try:
                number = Decimal(text.strip())
            except InvalidOperation:
                raise SuiteQLError(f"Invalid number value '{text}'.") from None
            if not number.is_finite():
                raise SuiteQLError(f"Invalid number value '{text}'.")
            return _sql_number(number), "number"
        return _sql_string(text), "varchar"

    def function(self, node: Func) -> tuple[str, str]:
        name, args = node.name, node.args
        if name == "to_char":
            if len(args) not in (1, 2):
                raise SuiteQLError("TO_CHAR takes one or two arguments.")
            sql, kind = self.value(args[0])
            if len(args) == 1:
                if kind in ("date", "timestamp"):
                    return f"strftime({sql}, '%-m/%-d/%Y')", "varchar"
                return f"CAST({sql} AS VARCHAR)", "varchar"
            model = self.format_model(args[1], name)
            if kind not in ("date", "timestamp"):
                raise SuiteQLError("TO_CHAR with a format model needs a date or timestamp value.")
            return f"strftime({sql}, {_sql_string(oracle_format(model))})", "varchar"
        if name in ("to_date", "to_timestamp"):
            if len(args) != 2:
                raise SuiteQLError(f"{name.upper()} takes a value and a format model.")
            code = oracle_format(self.format_model(args[1], name))
            first = args[0]
            if isinstance(first, Lit) and first.kind == "string":
                try:
                    parsed = dt.datetime.strptime(first.value, code)
                except ValueError:
                    raise SuiteQLError(
                        f"Value '{first.value}' does not match the format model."
                    ) from None
                return _sql_timestamp(parsed), "timestamp"
            sql, kind = self.value(first)
            if kind != "varchar":
                raise SuiteQLError(f"{name.upper()} needs a string value.")
            return f"strptime({sql}, {_sql_string(code)})", "timestamp"
        raise SuiteQLError(f"Invalid or unsupported search. Unknown function '{name.upper()}'.")

    @staticmethod
    def format_model(node: Any, func: str) -> str:
        if not (isinstance(node, Lit) and node.kind == "string"):
            raise SuiteQLError(f"{func.upper()} needs a literal format model.")
        return str(node.value)

    def pair(self, left: Any, right: Any) -> tuple[str, str]:
        """Compile two operands, coercing a literal side to the other side's type."""
        if isinstance(left, Lit) and not isinstance(right, Lit):
            r_sql, r_kind = self.value(right)
            return self.value(left, r_kind)[0], r_sql
        l_sql, l_kind = self.value(left)
        return l_sql, self.value(right, l_kind)[0]

    # -- conditions ---------------------------------------------------------------------

    def condition(self, node: Any) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.condition(p) for p in node.parts) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.expr)})"
        if isinstance(node, Cmp):
            left, right = self.pair(node.left, node.right)
            return f"({left} {node.op} {right})"
        if isinstance(node, IsNull):
            sql, _ = self.value(node.expr)
            return f"({sql} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, InList):
            sql, kind = self.value(node.expr)
            items = ", ".join(self.value(item, kind)[0] for item in node.items)
            return f"({sql} {'NOT ' if node.negated else ''}IN ({items}))"
        if isinstance(node, Between):
            sql, kind = self.value(node.expr)
            low, high = self.value(node.low, kind)[0], self.value(node.high, kind)[0]
            return f"({sql} {'NOT ' if node.negated else ''}BETWEEN {low} AND {high})"
        if isinstance(node, Like):
            sql, _ = self.value(node.expr)
            pattern, _ = self.value(node.pattern, "varchar")
            escape = f" ESCAPE {_sql_string(node.escape)}" if node.escape else ""
            return f"({sql} {'NOT ' if node.negated else ''}LIKE {pattern}{escape})"
        raise SuiteQLError("Invalid or unsupported search. Expected a condition.")

    # -- statement ----------------------------------------------------------------------

    def compile(self) -> SuiteQuery:
        columns: list[tuple[str, str]] = []
        aliases: dict[str, str] = {}
        unnamed = 0
        for item in self.ast.items:
            if isinstance(item.expr, Star):
                qualifier = item.expr.qualifier
                if qualifier is not None and qualifier.lower() not in self.names:
                    raise SuiteQLError(f"Unknown identifier '{qualifier}.*'.")
                columns.extend(
                    (vendor, f'"{name}"') for name, vendor in self.renamed.items() if vendor
                )
                continue
            sql, _ = self.value(item.expr)
            if item.alias:
                key = item.alias.lower()
                aliases[key] = sql
            elif isinstance(item.expr, Col):
                key = self.types[item.expr.name.lower()][0].lower()
            else:
                unnamed += 1
                key = f"expr{unnamed}"
            columns.append((key, sql))
        where_sql = self.condition(self.ast.where) if self.ast.where is not None else "TRUE"

        order: list[OrderKey] = []
        for item in self.ast.order:
            sql = self.order_expr(item.expr, columns, aliases)
            nulls_first = item.desc if item.nulls_first is None else item.nulls_first
            order.append(OrderKey(sql, item.desc, nulls_first))
        present = {k.sql for k in order}
        tiebreak = _TIEBREAK.get(self.table.vendor_object, self.table.primary_key)
        for name in tiebreak:
            if f'"{name}"' not in present:
                order.append(OrderKey(f'"{name}"', desc=False, nulls_first=False))
        return SuiteQuery(self.table, tuple(columns), where_sql, tuple(order))

    def order_expr(self, expr: Any, columns: list[tuple[str, str]], aliases: dict[str, str]) -> str:
        if isinstance(expr, Lit) and expr.kind == "number":
            position = int(expr.value) if expr.value == expr.value.to_integral_value() else 0
            if not 1 <= position <= len(columns):
                raise SuiteQLError(f"ORDER BY position {expr.value} is out of range.")
            return columns[position - 1][1]
        if isinstance(expr, Col) and expr.qualifier is None and expr.name.lower() in aliases:
            return aliases[expr.name.lower()]
        if isinstance(expr, Lit):
            raise SuiteQLError("Invalid or unsupported search. Cannot ORDER BY a literal.")
        return self.value(expr)[0]


def parse_suiteql(text: str, field_names: Mapping[str, str | None] | None = None) -> SuiteQuery:
    """Parse, validate and compile SuiteQL; raise :class:`SuiteQLError` where NetSuite would.

    `field_names`: stored column -> the script id this account gave the custom field, or None
    for a field this account does not have."""
    if not isinstance(text, str) or not text.strip():
        raise SuiteQLError("Invalid or unsupported search. The query is empty.")
    return _Compiler(_Parser(text).parse(), field_names).compile()


def sniff_table(text: str) -> str | None:
    """Vendor table name after FROM, for request counters; None if unknown."""
    m = re.search(r"\bfrom\s+([A-Za-z_]\w*)", text or "", re.IGNORECASE)
    if m is None:
        return None
    table = resolve_table(m.group(1))
    return table.vendor_object if table else None
