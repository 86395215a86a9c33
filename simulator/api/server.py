"""The simulator's HTTP server: three vendor APIs on one loopback port.

``/crm`` is Salesforce, ``/psa`` Harvest and ``/erp`` NetSuite, each speaking its real
wire format so the production connectors run unchanged against it. Requests are served
by a ``ThreadingHTTPServer``; each request borrows its own DuckDB cursor, because the
generator may be writing to the same connection from another thread meanwhile.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import duckdb

from simulator.api.common import ApiError, Request, RequestContext, Response, VendorApi
from simulator.api.faults import FaultConfig, RequestFault
from simulator.api.harvest import HarvestApi
from simulator.api.keyset import Pager
from simulator.api.netsuite import NetSuiteApi
from simulator.api.salesforce import SalesforceApi

__all__ = ["FaultConfig", "SimulatorServer"]

logger = logging.getLogger("simulator.api")

MAX_BODY_BYTES = 1 << 20


class _CursorPool:
    """Reusable per-request cursors (``con.cursor()`` each), never shared concurrently."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._free: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            cur = self._free.pop() if self._free else self._con.cursor()
        healthy = False
        try:
            yield cur
            healthy = True
        finally:
            if healthy:
                with self._lock:
                    self._free.append(cur)
            else:  # a failed request may leave a transaction open: start afresh
                with suppress(duckdb.Error):
                    cur.close()

    def close(self) -> None:
        with self._lock:
            free, self._free = self._free, []
        for cur in free:
            with suppress(duckdb.Error):
                cur.close()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads idling on keep-alive sockets so stop() is prompt."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "q2c-simulator/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections release their thread eventually
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _HTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry paths and queries only; headers (and so the token) never.
        logger.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._write(Response.json(413, {"error": "request body too large"}), RequestFault())
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request.build(
            self.command, parts.path, parts.query, dict(self.headers.items()), body
        )
        response, fault = self.server.simulator.serve(request)
        self._write(response, fault)

    def _write(self, response: Response, fault: RequestFault) -> None:
        if fault.delay_seconds > 0:
            time.sleep(fault.delay_seconds)
        body = response.body
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault.drop_connection:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


class SimulatorServer:
    """Serve a firm database as Salesforce (``/crm``), Harvest (``/psa``), NetSuite (``/erp``).

    Usage::

        with SimulatorServer(con, token="secret").start() as server:
            requests.get(server.psa_base_url + "/v2/clients", headers=...)
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        token: str = "secret",
        harvest_account_id: str = "123456",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        erp_field_names: Mapping[str, str | None] | None = None,
        hidden_crm_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """`erp_field_names` (stored column -> the account's custom field id, None for a field
        it lacks) and
        `hidden_crm_fields` (stored table -> fields the org hides) are the firm's tenant
        conventions (simulator.firm.tenants)."""
        if not token:
            raise ValueError("token must be a non-empty string")
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else FaultConfig()
        self.counters: Counter[str] = Counter()
        self._total = 0
        self._counter_lock = threading.Lock()
        self._pool = _CursorPool(con)
        self._pager = Pager()
        self._vendors: tuple[VendorApi, ...] = (
            SalesforceApi(token, hidden_crm_fields),
            HarvestApi(token, harvest_account_id),
            NetSuiteApi(token, erp_field_names),
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simulator-api:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("simulator API listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close client connections and release cursors (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._pool.close()
        self._pager.clear()

    def __enter__(self) -> Self:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def crm_base_url(self) -> str:
        return self.url + "/crm"

    @property
    def psa_base_url(self) -> str:
        return self.url + "/psa"

    @property
    def erp_base_url(self) -> str:
        return self.url + "/erp"

    # -- counters -----------------------------------------------------------------------

    @property
    def total_requests(self) -> int:
        return self._total

    def reset_counters(self) -> None:
        with self._counter_lock:
            self.counters.clear()
            self._total = 0

    def _count(self, key: str) -> None:
        with self._counter_lock:
            self.counters[key] += 1
            self._total += 1

    # -- request handling ---------------------------------------------------------------

    def _route(self, path: str) -> tuple[VendorApi, str] | None:
        for vendor in self._vendors:
            if path == vendor.prefix or path.startswith(vendor.prefix + "/"):
                return vendor, path[len(vendor.prefix) :] or "/"
        return None

    def serve(self, raw: Request) -> tuple[Response, RequestFault]:
        """Answer one request: count, authenticate, inject faults, then serve."""
        routed = self._route(raw.path)
        if routed is None:
            self._count("other")
            return Response.json(404, {"error": "not_found"}), RequestFault()
        vendor, sub_path = routed
        request = Request(raw.method, sub_path, raw.query, raw.headers, raw.body)
        self._count(vendor.endpoint_key(request))
        denied = vendor.authenticate(request)
        if denied is not None:
            return denied, RequestFault()
        faults = self.faults
        refused = faults.refusal(request.path)
        if refused is not None:
            return vendor.error(
                refused, "This feature is not enabled for this account."
            ), RequestFault()
        fault = faults.on_request(vendor.name)
        if fault.status == 429:
            response = vendor.error(429, "Request limit exceeded; retry later.")
            response.headers["Retry-After"] = str(max(0, int(faults.retry_after_seconds)))
            return response, fault
        if fault.status is not None:
            return vendor.error(fault.status, "The service is temporarily unavailable."), fault
        try:
            with self._pool.cursor() as cur:
                ctx = RequestContext(cur, faults, self.url + vendor.prefix, self._pager)
                try:
                    return vendor.handle(request, ctx), fault
                except ApiError as exc:
                    return exc.response, fault
        except Exception:
            logger.exception("unexpected error serving %s %s", raw.method, raw.path)
            return vendor.error(500, "An unexpected error occurred."), fault
