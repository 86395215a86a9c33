"""NetSuite SuiteQL over REST (``POST /services/rest/query/v1/suiteql``).

Paging is NetSuite's ``limit``/``offset``; offsets map onto the shared keyset
:class:`~simulator.api.keyset.Pager` (page ``offset // limit`` with phase
``offset % limit``), so a deep offset costs a range scan, not a sort of everything before.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import duckdb

from simulator.api.common import ApiError, Request, RequestContext, Response
from simulator.api.faults import RecordShape
from simulator.api.keyset import Source
from simulator.api.suiteql import ERROR_PREFIX, SuiteQLError, parse_suiteql, sniff_table
from simulator.api.wire import as_utc_naive, decimal_text
from simulator.schema import NETSUITE

COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"
ERROR_TYPE = "application/vnd.oracle.resource+json; type=error"
MAX_LIMIT = 1000
_PATH = re.compile(r"^/services/rest/query/v1/suiteql/?$")

_RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-"
_PROBLEMS = {
    400: (_RFC9110 + "15.5.1", "Bad Request", "INVALID_PARAMETER"),
    401: (_RFC9110 + "15.5.2", "Unauthorized", "INVALID_LOGIN"),
    404: (_RFC9110 + "15.5.5", "Not Found", "NONEXISTENT_ID"),
    405: (_RFC9110 + "15.5.6", "Method Not Allowed", "INVALID_METHOD"),
    429: (
        "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
        "Too Many Requests",
        "CONCURRENCY_LIMIT_EXCEEDED",
    ),
    500: (_RFC9110 + "15.6.1", "Internal Server Error", "UNEXPECTED_ERROR"),
    503: (_RFC9110 + "15.6.4", "Service Unavailable", "SERVICE_UNAVAILABLE"),
}


def ns_value(value: Any) -> str:
    """NetSuite wire rendering: every value a string, ``T``/``F``, ``M/D/YYYY`` dates."""
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, dt.datetime):
        value = as_utc_naive(value)
        return f"{value.month}/{value.day}/{value.year}"
    if isinstance(value, dt.date):
        return f"{value.month}/{value.day}/{value.year}"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        return decimal_text(Decimal(repr(value)))
    return str(value)


def problem(status: int, detail: str) -> Response:
    """NetSuite's RFC 9457-style error body."""
    type_url, title, code = _PROBLEMS.get(status, _PROBLEMS[500])
    body = {
        "type": type_url,
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }
    return Response.json(status, body, ERROR_TYPE)


def _shape(name: str) -> RecordShape:
    table = NETSUITE[name]
    cols = [c for c, _ in table.columns if c not in table.primary_key]
    types = dict(table.columns)
    numeric = tuple((c,) for c in cols if types[c].startswith(("decimal", "integer", "bigint")))
    dates = tuple((c,) for c in cols if types[c] in ("date", "timestamp"))
    currency_col = "symbol" if name == "currency" else "currency"
    currency = tuple((c,) for c in cols if c == currency_col)
    hours = tuple((c,) for c in cols if c == "quantity")
    return RecordShape(
        "netsuite", name, table.primary_key, numeric, dates, currency, hours, "custbody_drift_field"
    )


_SHAPES = {name: _shape(name) for name in NETSUITE}


class NetSuiteApi:
    """The simulated NetSuite account under ``/erp``."""

    name = "netsuite"
    prefix = "/erp"

    def __init__(self, token: str, field_names: Mapping[str, str | None] | None = None) -> None:
        self._token = token
        self._field_names = dict(field_names or {})

    def endpoint_key(self, request: Request) -> str:
        if not _PATH.match(request.path):
            return "erp:other"
        table = None
        try:
            payload = json.loads(request.body or b"{}")
            if isinstance(payload, dict):
                table = sniff_table(str(payload.get("q") or ""))
        except ValueError:
            table = None
        return f"erp:suiteql:{table or '?'}"

    def authenticate(self, request: Request) -> Response | None:
        if request.bearer_token_matches(self._token):
            return None
        return problem(401, "Invalid login attempt. For more details, see the Login Audit Trail.")

    def error(self, status: int, message: str) -> Response:
        return problem(status, message)

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        if not _PATH.match(request.path):
            raise ApiError(problem(404, f"Resource '{request.path}' was not found."))
        if request.method != "POST":
            response = problem(405, f"HTTP method {request.method} is not allowed here; use POST.")
            response.headers["Allow"] = "POST"
            raise ApiError(response)
        if "transient" not in (request.header("prefer") or "").lower():
            raise ApiError(problem(400, "The request must include the header 'Prefer: transient'."))
        limit = self._int_param(request, "limit", 1000, 1, MAX_LIMIT)
        offset = self._int_param(request, "offset", 0, 0, None)
        try:
            payload = json.loads(request.body or b"")
        except ValueError:
            raise ApiError(problem(400, "The request body is not valid JSON.")) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("q"), str):
            raise ApiError(
                problem(400, "The request body must be a JSON object with a 'q' string.")
            )
        try:
            query = parse_suiteql(payload["q"], self._field_names)
        except SuiteQLError as exc:
            raise ApiError(problem(400, exc.detail)) from exc

        table = query.table
        src = Source(table.name, query.where_sql, (), query.order)
        select = ", ".join(
            [f"{sql} AS __c{i}" for i, (_, sql) in enumerate(query.columns)]
            + [f'"{c}" AS __pk{i}' for i, c in enumerate(table.primary_key)]
        )
        index, phase = divmod(offset, limit)
        want_dup = ctx.faults.want_duplicates(self.name)
        try:
            result = ctx.pager.fetch(
                ctx.cursor,
                src,
                select,
                limit,
                index,
                phase=phase,
                refresh=index == 0,
                with_previous=want_dup,
            )
        except (duckdb.DataError, duckdb.InvalidInputException) as exc:
            # Values the query itself makes invalid (e.g. TO_TIMESTAMP on a bad column).
            raise ApiError(problem(400, ERROR_PREFIX + f"Search error occurred: {exc}")) from exc
        rows = list(result.rows)
        if want_dup and result.previous_row is not None and rows:
            rows.insert(0, result.previous_row)
        n_cols = len(query.columns)
        records: list[tuple[dict[str, Any], Any]] = []
        for row in rows:
            item: dict[str, Any] = {"links": []}
            for (key, _), value in zip(query.columns, row[:n_cols], strict=True):
                if value is not None:
                    item[key] = ns_value(value)
            pk = [ns_value(v) if v is not None else None for v in row[n_cols:]]
            records.append((item, pk[0] if len(pk) == 1 else "|".join(str(v) for v in pk)))
        ctx.faults.apply_to_records(_SHAPES[table.vendor_object], records)

        has_more = index + 1 < result.page_count
        base = f"{ctx.base_url}/services/rest/query/v1/suiteql"

        def href(at: int) -> str:
            return f"{base}?limit={limit}&offset={at}"

        links = []
        if offset > 0:
            links.append({"rel": "previous", "href": href(max(0, offset - limit))})
        links.append({"rel": "first", "href": href(0)})
        if has_more:
            links.append({"rel": "next", "href": href(offset + limit)})
        last = phase + max(0, result.page_count - 1) * limit
        links.append({"rel": "last", "href": href(last)})
        links.append({"rel": "self", "href": href(offset)})
        body = {
            "links": links,
            "count": len(records),
            "hasMore": has_more,
            "offset": offset,
            "totalResults": result.total,
            "items": [item for item, _ in records],
        }
        return Response.json(200, body, COLLECTION_TYPE)

    @staticmethod
    def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.param(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ApiError(
                problem(400, f"Invalid '{name}' query parameter value '{raw}': must be {bounds}.")
            )
        return value
