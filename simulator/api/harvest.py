"""Harvest API v2 list endpoints and the uninvoiced report.

Lists use Harvest's numbered pages. To keep deep pages cheap on large tables the
shared :class:`~simulator.api.keyset.Pager` computes page anchors once per traversal
(when page 1 is requested) and then serves every page as a key-range scan.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from simulator.api.common import ApiError, Request, RequestContext, Response
from simulator.api.faults import RecordShape
from simulator.api.keyset import OrderKey, Source
from simulator.api.wire import as_utc_naive, json_number, parse_iso_datetime
from simulator.schema import HARVEST, Table

MAX_PER_PAGE = 2000
DEFAULT_PER_PAGE = 2000
DEFAULT_REPORT_PER_PAGE = 1000
_AUTH_PARAMS = {"access_token", "account_id"}  # never echoed back in links
_LIST_PATH = re.compile(r"^/v2/([a-z_]+)/?$")
_REPORT_PATH = re.compile(r"^/v2/reports/uninvoiced/?$")


def hv_value(value: Any) -> Any:
    """Harvest wire rendering: ``2017-06-27T16:01:23Z`` timestamps, ISO dates."""
    kind = type(value)
    if kind is dt.datetime:
        if value.tzinfo is not None:
            value = as_utc_naive(value)
        return value.isoformat(timespec="seconds") + "Z"
    if kind is dt.date:
        return value.isoformat()
    if kind is Decimal:
        return json_number(value)
    return value


def _error(status: int, payload: dict[str, Any]) -> ApiError:
    return ApiError(Response.json(status, payload))


def _unprocessable(message: str) -> ApiError:
    return _error(422, {"message": message})


_STATUS_TEXT = {
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class _Resource:
    table: Table
    filters: dict[str, tuple[str, str]]
    """Query parameter -> (column, parse kind)."""
    order: tuple[OrderKey, ...]
    layout: tuple[tuple[str, Any], ...]
    """Wire layout: ("col", (key, index)) or ("nested", (name, ((field, index), ...), id_index))."""
    shape: RecordShape


def _build_resource(table: Table) -> _Resource:
    cols = table.column_names
    filters: dict[str, tuple[str, str]] = {}
    for param, kind in (
        ("is_active", "bool"),
        ("is_billed", "bool"),
        ("is_running", "bool"),
        ("client_id", "int"),
        ("project_id", "int"),
        ("user_id", "int"),
    ):
        if param in cols:
            filters[param] = (param, kind)
    sort_col = "spent_date" if "spent_date" in cols else "created_at"
    order = (
        OrderKey(f'"{sort_col}"', desc=True, nulls_first=True),
        OrderKey('"id"', desc=True, nulls_first=True),
    )
    nested_of: dict[str, str] = {}
    for name, fields in table.nested.items():
        for f in fields:
            nested_of[f"{name}_{f}"] = name
    layout: list[tuple[str, Any]] = []
    emitted: set[str] = set()
    for idx, col in enumerate(cols):
        group = nested_of.get(col)
        if group is None:
            layout.append(("col", (col, idx)))
        elif group not in emitted:
            emitted.add(group)
            members = tuple((f, cols.index(f"{group}_{f}")) for f in table.nested[group])
            layout.append(("nested", (group, members, cols.index(f"{group}_id"))))

    types = dict(table.columns)
    top = [c for c in cols if c not in nested_of and c not in table.primary_key]
    numeric = tuple((c,) for c in top if types[c].startswith(("decimal", "integer", "bigint")))
    dates = tuple((c,) for c in top if types[c] in ("date", "timestamp"))
    currency: list[tuple[str, ...]] = [(c,) for c in top if c == "currency"]
    currency += [(g, "currency") for g, fs in table.nested.items() if "currency" in fs]
    hours = tuple((c,) for c in top if c in ("hours", "units"))
    shape = RecordShape(
        "harvest",
        table.vendor_object,
        tuple(table.primary_key),
        numeric,
        dates,
        tuple(currency),
        hours,
        "drift_field",
    )
    return _Resource(table, filters, order, tuple(layout), shape)


_RESOURCES = {name: _build_resource(table) for name, table in HARVEST.items()}


def _record(resource: _Resource, row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, spec in resource.layout:
        if kind == "col":
            key, idx = spec
            out[key] = hv_value(row[idx])
        else:
            name, members, id_idx = spec
            if row[id_idx] is None:
                out[name] = None
            else:
                out[name] = {f: hv_value(row[i]) for f, i in members}
    return out


def _parse_bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise _unprocessable(f"Invalid {name} parameter: must be true or false")


def _parse_int(name: str, raw: str, low: int = 1, high: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise _unprocessable(f"Invalid {name} parameter: must be an integer") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _unprocessable(f"Invalid {name} parameter: must be {bounds}")
    return value


def _parse_date(name: str, raw: str) -> dt.date:
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.datetime.strptime(text, "%Y%m%d").date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _unprocessable(f"Invalid {name} parameter: must be a date (YYYY-MM-DD)") from None


def _parse_datetime(name: str, raw: str) -> dt.datetime:
    try:
        return parse_iso_datetime(raw)
    except ValueError:
        raise _unprocessable(f"Invalid {name} parameter: must be an ISO 8601 datetime") from None


class HarvestApi:
    """The simulated Harvest account under ``/psa``."""

    name = "harvest"
    prefix = "/psa"

    def __init__(self, token: str, account_id: str) -> None:
        self._token = token
        self._account_id = account_id

    def endpoint_key(self, request: Request) -> str:
        if _REPORT_PATH.match(request.path):
            return "psa:reports:uninvoiced"
        m = _LIST_PATH.match(request.path)
        if m and m.group(1) in _RESOURCES:
            return f"psa:{m.group(1)}"
        return "psa:other"

    def authenticate(self, request: Request) -> Response | None:
        if not request.bearer_token_matches(self._token):
            return Response.json(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "The access token provided is expired, revoked, "
                    "malformed or invalid for other reasons.",
                },
            )
        account = (request.header("harvest-account-id") or "").strip()
        if not hmac.compare_digest(account.encode(), self._account_id.encode()):
            return Response.json(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "The Harvest-Account-Id header is missing or does "
                    "not match an account this token can access.",
                },
            )
        return None

    def error(self, status: int, message: str) -> Response:
        if status == 429:
            return Response.json(status, {"message": message})
        return Response.json(status, {"status": status, "error": _STATUS_TEXT.get(status, message)})

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        if _REPORT_PATH.match(request.path):
            self._require_get(request)
            return self._uninvoiced(request, ctx)
        m = _LIST_PATH.match(request.path)
        if m is None or m.group(1) not in _RESOURCES:
            raise ApiError(self.error(404, "Not Found"))
        self._require_get(request)
        return self._list(_RESOURCES[m.group(1)], request, ctx)

    def _require_get(self, request: Request) -> None:
        if request.method != "GET":
            raise ApiError(self.error(405, "Method Not Allowed"))

    # -- lists --------------------------------------------------------------------------

    def _paging(self, request: Request, default_per_page: int) -> tuple[int, int]:
        raw_page, raw_per_page = request.param("page"), request.param("per_page")
        page = 1 if raw_page in (None, "") else _parse_int("page", raw_page)
        per_page = (
            default_per_page
            if raw_per_page in (None, "")
            else _parse_int("per_page", raw_per_page, 1, MAX_PER_PAGE)
        )
        return page, per_page

    def _list(self, resource: _Resource, request: Request, ctx: RequestContext) -> Response:
        page, per_page = self._paging(request, DEFAULT_PER_PAGE)
        conds: list[str] = []
        params: list[Any] = []
        for param, (column, kind) in resource.filters.items():
            raw = request.param(param)
            if raw is None or raw == "":
                continue
            value = _parse_bool(param, raw) if kind == "bool" else _parse_int(param, raw, 0)
            conds.append(f'"{column}" = ?')
            params.append(value)
        since = request.param("updated_since")
        if since:
            conds.append('"updated_at" >= ?')
            params.append(_parse_datetime("updated_since", since))
        if "spent_date" in resource.table.column_names:
            for param, op in (("from", ">="), ("to", "<=")):
                raw = request.param(param)
                if raw:
                    conds.append(f'"spent_date" {op} ?')
                    params.append(_parse_date(param, raw))
        src = Source(
            resource.table.name, " AND ".join(conds) or "TRUE", tuple(params), resource.order
        )
        select = ", ".join(f'"{c}"' for c in resource.table.column_names)
        want_dup = ctx.faults.want_duplicates(self.name)
        result = ctx.pager.fetch(
            ctx.cursor,
            src,
            select,
            per_page,
            page - 1,
            refresh=page == 1,
            with_previous=want_dup,
        )
        rows = list(result.rows)
        if want_dup and result.previous_row is not None and rows:
            rows.insert(0, result.previous_row)
        pk = resource.table.column_names.index("id")
        records = [(_record(resource, row), row[pk]) for row in rows]
        ctx.faults.apply_to_records(resource.shape, records)
        base = f"{ctx.base_url}/v2/{resource.table.vendor_object}"
        envelope = self._envelope(request, base, page, per_page, result.total, result.page_count)
        return Response.json(
            200, {resource.table.vendor_object: [r for r, _ in records], **envelope}
        )

    @staticmethod
    def _envelope(
        request: Request, base: str, page: int, per_page: int, total: int, total_pages: int
    ) -> dict[str, Any]:
        kept = [(k, v) for k, v in request.query if k not in {"page", "per_page", *_AUTH_PARAMS}]

        def link(n: int) -> str:
            return f"{base}?{urlencode([('page', str(n)), ('per_page', str(per_page)), *kept])}"

        next_page = page + 1 if page < total_pages else None
        previous_page = page - 1 if page > 1 else None
        return {
            "per_page": per_page,
            "total_pages": total_pages,
            "total_entries": total,
            "next_page": next_page,
            "previous_page": previous_page,
            "page": page,
            "links": {
                "first": link(1),
                "next": link(next_page) if next_page else None,
                "previous": link(previous_page) if previous_page else None,
                "last": link(max(total_pages, 1)),
            },
        }

    # -- reports ------------------------------------------------------------------------

    def _uninvoiced(self, request: Request, ctx: RequestContext) -> Response:
        raw_from, raw_to = request.param("from"), request.param("to")
        if not raw_from or not raw_to:
            raise _unprocessable("The from and to parameters are required")
        start, end = _parse_date("from", raw_from), _parse_date("to", raw_to)
        page, per_page = self._paging(request, DEFAULT_REPORT_PER_PAGE)
        report = """
            WITH te AS (
                SELECT project_id,
                       sum(hours) AS total_hours,
                       sum(hours) FILTER (WHERE NOT coalesce(is_billed, FALSE)) AS open_hours,
                       sum(hours * billable_rate)
                           FILTER (WHERE NOT coalesce(is_billed, FALSE)) AS open_amount
                FROM hv_time_entries
                WHERE coalesce(billable, FALSE) AND spent_date BETWEEN ? AND ?
                GROUP BY project_id
            ), ex AS (
                SELECT project_id,
                       sum(total_cost) FILTER (WHERE NOT coalesce(is_billed, FALSE)) AS open_cost
                FROM hv_expenses
                WHERE coalesce(billable, FALSE) AND spent_date BETWEEN ? AND ?
                GROUP BY project_id
            ), r AS (
                SELECT p.client_id, p.client_name, p.id AS project_id, p.name AS project_name,
                       p.client_currency AS currency,
                       coalesce(te.total_hours, 0) AS total_hours,
                       coalesce(te.open_hours, 0) AS uninvoiced_hours,
                       coalesce(ex.open_cost, 0) AS uninvoiced_expenses,
                       round(coalesce(te.open_amount, 0), 2) + coalesce(ex.open_cost, 0)
                           AS uninvoiced_amount
                FROM hv_projects p
                LEFT JOIN te ON te.project_id = p.id
                LEFT JOIN ex ON ex.project_id = p.id
                WHERE coalesce(p.is_billable, FALSE)
                  AND (te.project_id IS NOT NULL OR ex.project_id IS NOT NULL)
            )
        """
        params = [start, end, start, end]
        cur = ctx.cursor
        cur.execute("BEGIN TRANSACTION")
        try:
            (total,) = cur.execute(f"{report} SELECT count(*) FROM r", params).fetchone()  # type: ignore[misc]
            rows = cur.execute(
                f"{report} SELECT * FROM r ORDER BY client_name NULLS LAST, "
                f"project_name NULLS LAST, project_id LIMIT {per_page:d} "
                f"OFFSET {(page - 1) * per_page:d}",
                params,
            ).fetchall()
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        keys = (
            "client_id",
            "client_name",
            "project_id",
            "project_name",
            "currency",
            "total_hours",
            "uninvoiced_hours",
            "uninvoiced_expenses",
            "uninvoiced_amount",
        )
        results = [dict(zip(keys, (hv_value(v) for v in row), strict=True)) for row in rows]
        total_pages = -(-total // per_page)
        base = f"{ctx.base_url}/v2/reports/uninvoiced"
        envelope = self._envelope(request, base, page, per_page, total, total_pages)
        return Response.json(200, {"results": results, **envelope})
