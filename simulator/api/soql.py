"""A real parser for the SOQL subset the connectors use, compiled to DuckDB SQL.

Only what is parsed and validated here reaches DuckDB: identifiers come from
``schema.SALESFORCE`` and every literal travels as a bound parameter. Semantics follow
SOQL rather than SQL where they differ: ``!=`` and ``NOT IN`` match nulls, string
comparisons and ordering are case-insensitive (except on Id fields), and nulls sort
first by default.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.api.keyset import OrderKey
from simulator.api.lexer import Token, tokenize
from simulator.api.wire import parse_iso_datetime
from simulator.schema import SALESFORCE, Table


class SoqlError(Exception):
    """A query the simulated Salesforce rejects; ``code`` is the Salesforce errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)

_KEYWORDS = {
    "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc",
    "desc", "nulls", "first", "last", "limit", "true", "false", "null", "includes",
    "excludes", "group", "having", "offset", "for", "with", "using", "typeof",
}  # fmt: skip
_UNSUPPORTED_CLAUSES = {"group", "having", "offset", "for", "with", "using", "typeof"}


def _tokenize(text: str) -> list[Token]:
    return tokenize(
        text,
        _TOKEN,
        lambda pos: SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos : pos + 20]}'"),
    )


def _kind_of(storage_type: str) -> str:
    t = storage_type.lower()
    if t.startswith(("decimal", "integer", "bigint", "double")):
        return "number"
    if t in ("boolean", "date", "timestamp"):
        return t
    return "string"


_SOQL_TYPE_NAME = {
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "dateTime",
}


@dataclass(frozen=True)
class Field:
    name: str
    """Canonical API name (also the DuckDB column)."""
    kind: str
    """string / number / boolean / date / timestamp."""

    @property
    def is_id(self) -> bool:
        return self.kind == "string" and self.name.endswith("Id")

    @property
    def sql(self) -> str:
        return f'"{self.name}"'

    @property
    def folded_sql(self) -> str:
        """Comparison/ordering expression: SOQL compares text case-insensitively."""
        return self.sql if self.kind != "string" or self.is_id else f'lower("{self.name}")'


@dataclass(frozen=True)
class Literal:
    kind: str
    """string / number / boolean / date / datetime / null."""
    value: Any
    token: Token


@dataclass(frozen=True)
class SoqlQuery:
    text: str
    table: Table
    fields: tuple[Field, ...]
    where_sql: str
    params: tuple[Any, ...]
    order: tuple[OrderKey, ...]
    """User ORDER BY followed by ``Id`` as the unique tiebreak."""
    limit: int | None

    @property
    def object_name(self) -> str:
        return self.table.vendor_object


_OBJECTS = {name.lower(): table for name, table in SALESFORCE.items()}


def resolve_object(name: str) -> Table | None:
    return _OBJECTS.get(name.lower())


def _unescape(body: str, like: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            mapped = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}.get(nxt)
            if mapped is not None:
                out.append(mapped)
            elif nxt in "%_":
                out.append("\\" + nxt if like else nxt)
            elif nxt in "'\"\\":
                out.append("\\\\" if like and nxt == "\\" else nxt)
            else:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Invalid string literal: illegal escape sequence \\{nxt}"
                )
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str, hidden: Mapping[str, Iterable[str]] | None = None) -> None:
        self.text = text
        self.hidden = hidden or {}
        self.tokens = _tokenize(text)
        self.i = 0
        self.table: Table | None = None
        self.fields_by_lower: dict[str, Field] = {}
        self.params: list[Any] = []

    # -- token helpers ------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        where = self._where(tok)
        if tok.kind == "eof":
            return SoqlError("MALFORMED_QUERY", f"{where}unexpected end of query")
        return SoqlError("MALFORMED_QUERY", f"{where}unexpected token: '{tok.text}'")

    def _where(self, tok: Token) -> str:
        line = self.text[: tok.pos].count("\n") + 1
        col = tok.pos - (self.text.rfind("\n", 0, tok.pos) + 1) + 1
        return f"\n{self.text}\n{' ' * (col - 1)}^\nERROR at Row:{line}:Column:{col}\n"

    def expect_kw(self, word: str) -> Token:
        if not self.tok.is_kw(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str, text: str | None = None) -> Token:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text != text):
            raise self.unexpected()
        return self.advance()

    # -- grammar ------------------------------------------------------------------------

    def parse(self) -> SoqlQuery:
        self.expect_kw("select")
        field_tokens = [self._field_token()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            field_tokens.append(self._field_token())
        self.expect_kw("from")
        obj = self.expect("ident")
        if "." in obj.text or obj.word in _KEYWORDS:
            raise self.unexpected(obj)
        table = resolve_object(obj.text)
        if table is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"{self._where(obj)}sObject type '{obj.text}' is not supported. If you are "
                "attempting to use a custom object, be sure to append the '__c' after the "
                "entity name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        self.table = table
        hidden = set(self.hidden.get(table.name, ()))
        self.fields_by_lower = {
            name.lower(): Field(name, _kind_of(t))
            for name, t in table.columns
            if name not in hidden
        }
        fields = tuple(self._resolve(t) for t in field_tokens)
        seen: set[str] = set()
        for f, t in zip(fields, field_tokens, strict=True):
            if f.name in seen:
                raise SoqlError(
                    "MALFORMED_QUERY", f"{self._where(t)}duplicate field selected: {f.name}"
                )
            seen.add(f.name)

        where_sql = "TRUE"
        if self.tok.is_kw("where"):
            self.advance()
            where_sql = self._or()
        order: list[OrderKey] = []
        if self.tok.is_kw("order"):
            self.advance()
            self.expect_kw("by")
            order.append(self._order_item())
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                order.append(self._order_item())
        limit = None
        if self.tok.is_kw("limit"):
            self.advance()
            tok = self.expect("number")
            if not tok.text.isdigit():
                raise self.unexpected(tok)
            limit = int(tok.text)
        if self.tok.kind != "eof":
            raise self.unexpected()
        id_field = self.fields_by_lower["id"]
        if not any(k.sql == id_field.sql for k in order):
            order.append(OrderKey(id_field.sql, desc=False, nulls_first=True))
        return SoqlQuery(
            self.text, table, fields, where_sql, tuple(self.params), tuple(order), limit
        )

    def _field_token(self) -> Token:
        tok = self.tok
        if tok.kind == "punct" and tok.text == "(":
            raise SoqlError("MALFORMED_QUERY", f"{self._where(tok)}subqueries are not supported")
        if tok.kind != "ident" or tok.word in _KEYWORDS:
            raise self.unexpected()
        self.advance()
        if self.tok.kind == "punct" and self.tok.text == "(":
            raise SoqlError(
                "MALFORMED_QUERY", f"{self._where(tok)}functions are not supported: {tok.text}"
            )
        return tok

    def _resolve(self, tok: Token) -> Field:
        assert self.table is not None
        if "." in tok.text:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"{self._where(tok)}relationship queries are not supported: {tok.text}",
            )
        found = self.fields_by_lower.get(tok.word)
        if found is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"{self._where(tok)}No such column '{tok.text}' on entity "
                f"'{self.table.vendor_object}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference "
                "your WSDL or the describe call for the appropriate names.",
            )
        return found

    def _order_item(self) -> OrderKey:
        tok = self.tok
        if tok.kind != "ident" or tok.word in _KEYWORDS:
            raise self.unexpected()
        self.advance()
        field = self._resolve(tok)
        desc = False
        if self.tok.is_kw("asc", "desc"):
            desc = self.advance().word == "desc"
        nulls_first = True  # SOQL's default, whatever the direction
        if self.tok.is_kw("nulls"):
            self.advance()
            if not self.tok.is_kw("first", "last"):
                raise self.unexpected()
            nulls_first = self.advance().word == "first"
        return OrderKey(field.folded_sql, desc, nulls_first)

    def _or(self) -> str:
        parts = [self._and()]
        while self.tok.is_kw("or"):
            self.advance()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._not()]
        while self.tok.is_kw("and"):
            self.advance()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _not(self) -> str:
        if self.tok.is_kw("not"):
            self.advance()
            return f"(NOT {self._not()})"
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            if self.tok.is_kw("select"):
                raise SoqlError(
                    "MALFORMED_QUERY", f"{self._where(self.tok)}subqueries are not supported"
                )
            inner = self._or()
            self.expect("punct", ")")
            return inner
        return self._condition()

    def _condition(self) -> str:
        tok = self.tok
        if tok.kind != "ident" or tok.word in _KEYWORDS:
            raise self.unexpected()
        self.advance()
        if self.tok.kind == "punct" and self.tok.text == "(":
            raise SoqlError(
                "MALFORMED_QUERY", f"{self._where(tok)}functions are not supported: {tok.text}"
            )
        field = self._resolve(tok)
        op_tok = self.tok
        if op_tok.kind == "op":
            self.advance()
            return self._compare(field, op_tok.text, self._literal(field, like=False))
        if op_tok.is_kw("in"):
            self.advance()
            return self._in(field, negated=False)
        if op_tok.is_kw("not"):
            self.advance()
            self.expect_kw("in")
            return self._in(field, negated=True)
        if op_tok.is_kw("like"):
            self.advance()
            lit = self._literal(field, like=True)
            if field.kind != "string" or lit.kind != "string":
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"{self._where(op_tok)}invalid operator on field '{field.name}': LIKE",
                )
            self.params.append(lit.value)
            return f"({field.sql} ILIKE ? ESCAPE '\\')"
        if op_tok.is_kw("includes", "excludes"):
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"{self._where(op_tok)}{op_tok.text.upper()} is only valid on multi-select "
                "picklists",
            )
        raise self.unexpected()

    def _literal(self, field: Field, like: bool) -> Literal:
        tok = self.advance()
        if tok.kind == "string":
            return Literal("string", _unescape(tok.text[1:-1], like), tok)
        if tok.kind == "number":
            try:
                return Literal("number", Decimal(tok.text), tok)
            except InvalidOperation as exc:  # pragma: no cover - regex guarantees digits
                raise self.unexpected(tok) from exc
        if tok.kind == "date":
            try:
                return Literal("date", dt.date.fromisoformat(tok.text), tok)
            except ValueError as exc:
                raise SoqlError(
                    "MALFORMED_QUERY", f"{self._where(tok)}invalid date: {tok.text}"
                ) from exc
        if tok.kind == "datetime":
            try:
                return Literal("datetime", parse_iso_datetime(tok.text), tok)
            except ValueError as exc:
                raise SoqlError(
                    "MALFORMED_QUERY", f"{self._where(tok)}invalid dateTime: {tok.text}"
                ) from exc
        if tok.is_kw("true", "false"):
            return Literal("boolean", tok.word == "true", tok)
        if tok.is_kw("null"):
            return Literal("null", None, tok)
        raise self.unexpected(tok)

    def _check_type(self, field: Field, lit: Literal) -> Any:
        expected = {"timestamp": "datetime"}.get(field.kind, field.kind)
        if lit.kind == expected:
            return lit.value
        name = _SOQL_TYPE_NAME.get(field.kind, "string")
        quoted = (
            "should be enclosed in quotes"
            if field.kind == "string"
            else ("should not be enclosed in quotes")
        )
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR",
            f"{self._where(lit.token)}value of filter criterion for field '{field.name}' must "
            f"be of type {name} and {quoted}",
        )

    def _bind(self, field: Field, lit: Literal) -> str:
        value = self._check_type(field, lit)
        self.params.append(value)
        return "lower(?)" if field.folded_sql != field.sql else "?"

    def _compare(self, field: Field, op: str, lit: Literal) -> str:
        if lit.kind == "null":
            if op == "=":
                return f"({field.sql} IS NULL)"
            if op == "!=":
                return f"({field.sql} IS NOT NULL)"
            raise SoqlError(
                "MALFORMED_QUERY", f"{self._where(lit.token)}null can only be used with = or !="
            )
        placeholder = self._bind(field, lit)
        expr = field.folded_sql
        if op == "!=":  # SOQL: != also matches records where the field is null
            return f"({expr} IS DISTINCT FROM {placeholder})"
        return f"({expr} {op} {placeholder})"

    def _in(self, field: Field, negated: bool) -> str:
        self.expect("punct", "(")
        if self.tok.is_kw("select"):
            raise SoqlError(
                "MALFORMED_QUERY", f"{self._where(self.tok)}semi-join subqueries are not supported"
            )
        placeholders = []
        has_null = False
        while True:
            lit = self._literal(field, like=False)
            if lit.kind == "null":
                has_null = True
            else:
                placeholders.append(self._bind(field, lit))
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                continue
            self.expect("punct", ")")
            break
        expr = field.folded_sql
        parts = []
        if placeholders:
            parts.append(f"{expr} IN ({', '.join(placeholders)})")
        if has_null:
            parts.append(f"{field.sql} IS NULL")
        positive = "(" + " OR ".join(parts) + ")"
        if not negated:
            return positive
        # SOQL NOT IN matches nulls unless null is listed.
        return f"(NOT coalesce({positive}, FALSE))"


def parse_soql(text: str, hidden: Mapping[str, Iterable[str]] | None = None) -> SoqlQuery:
    """Parse and validate a SOQL query; raise :class:`SoqlError` when Salesforce would.

    `hidden`: per stored table, the standard fields this org has switched off or hidden from
    the integration user (a query naming one fails as it would there)."""
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "query is empty")
    return _Parser(text.strip(), hidden).parse()


def sniff_object(text: str) -> str | None:
    """Canonical object name after FROM, for request counters; None if unknown."""
    m = re.search(r"\bfrom\s+([A-Za-z_]\w*)", text or "", re.IGNORECASE)
    if m is None:
        return None
    table = resolve_object(m.group(1))
    return table.vendor_object if table else None
