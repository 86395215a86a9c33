"""Salesforce REST query API (``/services/data/vXX.X/query`` and ``queryAll``).

Continuation is keyset-based: the query locator is a stateless, opaque token holding the
SOQL text, the sort-key values of the last record served, and the running counts. Any
server can serve any locator, and a page costs the same wherever it is in the result.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from simulator.api.common import ApiError, Request, RequestContext, Response
from simulator.api.faults import RecordShape
from simulator.api.keyset import after, order_by
from simulator.api.soql import SoqlError, SoqlQuery, parse_soql, resolve_object, sniff_object
from simulator.api.wire import as_utc_naive, json_number
from simulator.schema import SALESFORCE

CONTENT_TYPE = "application/json;charset=UTF-8"
DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_BATCH = 2000

_PATH = re.compile(r"^/services/data/(v\d+\.\d+)/(query|queryAll)(?:/([^/]*))?/?$")
_ERROR_CODES = {
    400: "MALFORMED_QUERY",
    401: "INVALID_SESSION_ID",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "UNKNOWN_EXCEPTION",
    503: "SERVER_UNAVAILABLE",
}


def sf_value(value: Any) -> Any:
    """Salesforce wire rendering: ``2024-01-15T10:23:45.000+0000`` and ``2024-01-15``."""
    if isinstance(value, dt.datetime):
        v = as_utc_naive(value)
        return f"{v:%Y-%m-%dT%H:%M:%S}.{v.microsecond // 1000:03d}+0000"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json_number(value)
    return value


def _error(status: int, message: str, code: str | None = None) -> Response:
    code = code or _ERROR_CODES.get(status, "UNKNOWN_EXCEPTION")
    return Response.json(status, [{"message": message, "errorCode": code}], CONTENT_TYPE)


# -- query locators -----------------------------------------------------------------------


def _tag(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"cannot encode sort key of type {type(value).__name__}")


def _untag(item: Any) -> Any:
    if item is None:
        return None
    tag, raw = item
    decoders = {
        "b": bool,
        "i": int,
        "n": Decimal,
        "t": dt.datetime.fromisoformat,
        "d": dt.date.fromisoformat,
        "s": str,
    }
    return decoders[tag](raw)


def encode_locator(state: dict[str, Any]) -> str:
    raw = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_locator(token: str) -> dict[str, Any]:
    """Inverse of :func:`encode_locator`; raises ValueError on anything malformed."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(zlib.decompress(base64.urlsafe_b64decode(padded)))
        if not isinstance(state, dict) or not isinstance(state.get("q"), str):
            raise TypeError("bad locator")
        state["p"] = None if state.get("p") is None else [_untag(v) for v in state["p"]]
        for key in ("n", "t", "b"):
            if not isinstance(state.get(key), int) or isinstance(state.get(key), bool):
                raise TypeError("bad locator")
        return state
    except (binascii.Error, zlib.error, ValueError, TypeError, KeyError) as exc:
        raise ValueError("invalid query locator") from exc


def _split_locator(segment: str) -> str:
    locator, sep, count = segment.rpartition("-")
    if not sep or not locator or not count.isdigit():
        raise ValueError("invalid query locator")
    return locator


# -- fault shapes -------------------------------------------------------------------------


def _shape(object_name: str) -> RecordShape:
    table = SALESFORCE[object_name]
    numeric = tuple(
        (c,) for c, t in table.columns if t.startswith(("decimal", "integer", "bigint"))
    )
    dates = tuple((c,) for c, t in table.columns if t in ("date", "timestamp"))
    currency = tuple((c,) for c, _ in table.columns if c == "CurrencyIsoCode")
    hours = tuple((c,) for c, _ in table.columns if c == "Quantity")
    return RecordShape(
        "salesforce", object_name, ("Id",), numeric, dates, currency, hours, "Drift_Field__c"
    )


_SHAPES = {name: _shape(name) for name in SALESFORCE}


class SalesforceApi:
    """The simulated Salesforce org under ``/crm``."""

    name = "salesforce"
    prefix = "/crm"

    def __init__(self, token: str, hidden: Mapping[str, Iterable[str]] | None = None) -> None:
        self._token = token
        self._hidden = dict(hidden or {})

    def endpoint_key(self, request: Request) -> str:
        m = _PATH.match(request.path)
        if m is None:
            return "crm:other"
        kind = m.group(2)
        obj: str | None = None
        if m.group(3):
            try:
                state = decode_locator(_split_locator(m.group(3)))
                kind = "queryAll" if state.get("a") else "query"
                obj = sniff_object(state["q"])
            except ValueError:
                obj = None
        else:
            obj = sniff_object(request.param("q") or "")
        return f"crm:{kind}:{obj or '?'}"

    def authenticate(self, request: Request) -> Response | None:
        if request.bearer_token_matches(self._token, ("bearer", "oauth")):
            return None
        return _error(401, "Session expired or invalid")

    def error(self, status: int, message: str) -> Response:
        return _error(status, message)

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        m = _PATH.match(request.path)
        if m is None:
            raise ApiError(_error(404, "The requested resource does not exist"))
        if request.method != "GET":
            raise ApiError(
                _error(405, f"HTTP Method '{request.method}' not allowed. Allowed are GET")
            )
        version, kind, segment = m.group(1), m.group(2), m.group(3)
        header_batch = self._batch_size(request)
        if segment:
            try:
                state = decode_locator(_split_locator(segment))
                query = parse_soql(state["q"], self._hidden)
            except (ValueError, SoqlError) as exc:
                raise ApiError(
                    _error(400, "invalid query locator", "INVALID_QUERY_LOCATOR")
                ) from exc
            include_deleted = bool(state.get("a"))
            position = tuple(state["p"]) if state["p"] is not None else None
            if position is not None and len(position) != len(query.order):
                raise ApiError(_error(400, "invalid query locator", "INVALID_QUERY_LOCATOR"))
            served, total = state["n"], state["t"]
            batch = header_batch or state["b"]
        else:
            text = request.param("q")
            if text is None:
                raise ApiError(_error(400, "A query string has to be specified"))
            try:
                query = parse_soql(text, self._hidden)
            except SoqlError as exc:
                raise ApiError(_error(400, exc.message, exc.code)) from exc
            include_deleted = kind == "queryAll"
            position, served, total = None, 0, -1
            batch = header_batch or DEFAULT_BATCH
        return self._page(ctx, version, query, include_deleted, position, served, total, batch)

    @staticmethod
    def _batch_size(request: Request) -> int | None:
        header = request.header("sforce-query-options") or ""
        m = re.search(r"batchsize\s*=\s*(\d+)", header, re.IGNORECASE)
        if m is None:
            return None
        return max(MIN_BATCH, min(MAX_BATCH, int(m.group(1))))

    def _page(
        self,
        ctx: RequestContext,
        version: str,
        query: SoqlQuery,
        include_deleted: bool,
        position: tuple[Any, ...] | None,
        served: int,
        total: int,
        batch: int,
    ) -> Response:
        table = query.table
        where, params = query.where_sql, list(query.params)
        if not include_deleted:
            where = f'({where}) AND NOT coalesce("IsDeleted", FALSE)'
        cur = ctx.cursor
        if total < 0:
            (count,) = cur.execute(
                f"SELECT count(*) FROM {table.name} WHERE {where}", params
            ).fetchone()  # type: ignore[misc]
            total = count if query.limit is None else min(count, query.limit)
        remaining = None if query.limit is None else max(0, query.limit - served)
        take = batch if remaining is None else min(batch, remaining)

        n_fields = len(query.fields)
        n_keys = len(query.order)
        select = ", ".join(
            [f.sql for f in query.fields]
            + [f"{k.sql} AS __k{i}" for i, k in enumerate(query.order)]
            + ['"Id" AS __id']
        )
        rows: list[tuple[Any, ...]] = []
        more = False
        if take > 0:
            page_where, page_params = where, list(params)
            if position is not None:
                cond, extra = after(query.order, position, inclusive=False)
                page_where = f"({where}) AND {cond}"
                page_params += extra
            sql = (
                f"SELECT {select} FROM {table.name} WHERE {page_where} "
                f"ORDER BY {order_by(query.order)} LIMIT {take + 1:d}"
            )
            rows = [tuple(r) for r in cur.execute(sql, page_params).fetchall()]
            more = len(rows) > take and (remaining is None or remaining > take)
            rows = rows[:take]

        obj = table.vendor_object
        sobject_url = f"/services/data/{version}/sobjects/{obj}/"
        to_serve = list(rows)
        if position is not None and ctx.faults.want_duplicates(self.name):
            dup = cur.execute(
                f'SELECT {select} FROM {table.name} WHERE "Id" = ?', [position[-1]]
            ).fetchone()
            if dup is not None:
                to_serve.insert(0, tuple(dup))

        records: list[tuple[dict[str, Any], Any]] = []
        for row in to_serve:
            record_id = row[-1]
            record: dict[str, Any] = {
                "attributes": {"type": obj, "url": f"{sobject_url}{record_id}"}
            }
            for f, value in zip(query.fields, row[:n_fields], strict=True):
                record[f.name] = sf_value(value)
            records.append((record, record_id))
        ctx.faults.apply_to_records(_SHAPES[obj], records)

        body: dict[str, Any] = {"totalSize": total, "done": not more}
        if more:
            last = rows[-1]
            state = {
                "q": query.text,
                "a": include_deleted,
                "p": [_tag(v) for v in last[n_fields : n_fields + n_keys]],
                "n": served + len(rows),
                "t": total,
                "b": batch,
            }
            locator = encode_locator(state)
            body["nextRecordsUrl"] = (
                f"/services/data/{version}/query/{locator}-{served + len(rows)}"
            )
        body["records"] = [r for r, _ in records]
        return Response.json(200, body, CONTENT_TYPE)


__all__ = ["SalesforceApi", "resolve_object", "sf_value"]
