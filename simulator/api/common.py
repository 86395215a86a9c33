"""Transport-neutral request/response types shared by the vendor modules.

Vendor modules never touch sockets: they turn a :class:`Request` into a :class:`Response`
(or raise :class:`ApiError` carrying a vendor-format body), which keeps them testable and
lets the server apply faults uniformly on top.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from simulator.api.wire import dumps

if TYPE_CHECKING:
    import duckdb

    from simulator.api.faults import FaultConfig
    from simulator.api.keyset import Pager


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """Path below the vendor prefix, e.g. ``/v2/time_entries`` for ``/psa/v2/time_entries``."""
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> Request:
        pairs = tuple(parse_qsl(query_string, keep_blank_values=True))
        return cls(method.upper(), path, pairs, {k.lower(): v for k, v in headers.items()}, body)

    def param(self, name: str) -> str | None:
        """Last value of a query parameter (what most frameworks do on repeats)."""
        value = None
        for key, val in self.query:
            if key == name:
                value = val
        return value

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def bearer_token_matches(self, token: str, schemes: tuple[str, ...] = ("bearer",)) -> bool:
        """Constant-time check of ``Authorization: <scheme> <token>``."""
        raw = self.header("authorization") or ""
        scheme, _, given = raw.partition(" ")
        if scheme.lower() not in schemes:
            return False
        return hmac.compare_digest(given.strip().encode(), token.encode())


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> Response:
        return cls(status, dumps(payload), content_type, dict(headers or {}))


class ApiError(Exception):
    """A client-visible error already rendered in the vendor's format."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


@dataclass
class RequestContext:
    """What a vendor handler needs besides the request itself."""

    cursor: duckdb.DuckDBPyConnection
    faults: FaultConfig
    base_url: str
    """This vendor's absolute base URL, e.g. ``http://127.0.0.1:5000/psa``."""
    pager: Pager


class VendorApi(Protocol):
    """One simulated vendor mounted under a path prefix."""

    name: str
    """``salesforce`` / ``harvest`` / ``netsuite`` (as in ``FaultConfig.only_vendor``)."""
    prefix: str
    """``/crm`` / ``/psa`` / ``/erp``."""

    def endpoint_key(self, request: Request) -> str:
        """Counter key for the request, computed cheaply and without authentication."""
        ...

    def authenticate(self, request: Request) -> Response | None:
        """``None`` when the request carries valid credentials, else the 401 response."""
        ...

    def handle(self, request: Request, ctx: RequestContext) -> Response: ...

    def error(self, status: int, message: str) -> Response:
        """A generic vendor-format error (404, 429, 500, 503)."""
        ...
