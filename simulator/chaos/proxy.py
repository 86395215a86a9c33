"""A fault-injecting HTTP proxy between q2c and the simulator: the failures of a real network.

The simulator can fail on demand itself (``simulator.api.faults``), but from inside its own
request handler, one way per fault, on a shared request counter. The fault suite needs what a
client meets between it and a vendor, decided per request and repeatable whatever order
q2c's threads send them in:

- vendor-shaped rate limits: 429 in each vendor's own error body (the simulator's vendor
  modules render them) with ``Retry-After``;
- a load balancer's 500 and 502 pages (HTML, not JSON) and a vendor's 503 with
  ``Retry-After``;
- a connection dropped after part of the body, with a FIN (the peer closed) or an RST
  (``SO_LINGER`` 0: the connection reset);
- a stall: nothing sent for longer than the client's read timeout; the proxy watches the
  socket, so it knows whether the client gave up (its timeout took effect) or waited;
- malformed records (``simulator.chaos.records``) in otherwise correct answers.

Faults follow a ``Profile`` and its seed: the n-th attempt of one request (method, path and
body) gets the fault a seeded draw picks for it, so the same run faults the same requests.
No request gets more than ``max_in_a_row`` faults in a row, so a client that retries (q2c
tries six times) always gets through. Every fault is counted, and counted survived when the
same request is later answered in full.

Requests and answers are forwarded as they are (the Authorization header included, never
logged); the simulator's absolute links (Harvest's ``links.next``, NetSuite's ``links``) are
rewritten to point at the proxy, so every page goes through it.
"""

from __future__ import annotations

import hashlib
import http.client
import random
import select
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from simulator.api.common import Response, VendorApi
from simulator.api.faults import RequestFault
from simulator.api.harvest import HarvestApi
from simulator.api.netsuite import NetSuiteApi
from simulator.api.salesforce import SalesforceApi
from simulator.api.server import _Handler as SimulatorHandler
from simulator.api.server import _HTTPServer as SimulatorHTTPServer
from simulator.chaos.records import RecordRewriter

FAULT_KINDS = ("rate_limit", "http_500", "http_502", "http_503", "drop_fin", "drop_rst", "stall")
"""Every fault the proxy injects, in the order a draw assigns them."""

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "accept-encoding",
}

# The vendors, for their routes (``prefix``) and their error bodies (``error``) only: the
# proxy authenticates nothing, so their tokens are never used.
_VENDORS: tuple[VendorApi, ...] = (
    SalesforceApi("unused"),
    HarvestApi("unused", "unused"),
    NetSuiteApi("unused"),
)

_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Profile:
    """What the proxy does to requests: a probability per fault kind, with a seed."""

    name: str
    rates: Mapping[str, float] = field(default_factory=dict)
    """Fault kind -> probability that one attempt of a request gets it."""
    seed: int = 0
    max_in_a_row: int = 2
    """The most faults one request gets in a row; the next attempt is answered."""
    retry_after_seconds: int = 1
    stall_seconds: float = 8.0
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment q2c runs with under this profile (the stall's short read timeout)."""

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}: use {FAULT_KINDS}")
        if sum(self.rates.values()) > 1:
            raise ValueError(f"profile {self.name}: the fault rates add up to more than 1")

    @property
    def label(self) -> str:
        return f"{self.name}@{self.seed}" if self.seed else self.name


PASS_THROUGH = Profile("pass_through")


@dataclass
class FaultLog:
    """What the proxy did: requests per vendor, faults injected and survived, stalls' ends."""

    requests: Counter[str] = field(default_factory=Counter)
    """Requests received, per vendor (every attempt)."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults injected, per vendor."""
    injected: Counter[str] = field(default_factory=Counter)
    """Faults injected, per kind."""
    survived: Counter[str] = field(default_factory=Counter)
    """Faults whose request was later answered in full, per kind."""
    served: Counter[str] = field(default_factory=Counter)
    """Answers delivered in full, per vendor."""
    stalls_given_up: list[float] = field(default_factory=list)
    """Seconds after which the client closed a stalled request (its read timeout)."""
    stalls_waited: int = 0
    """Stalls the client waited out: its read timeout is longer than the stall."""

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    @property
    def total_survived(self) -> int:
        return sum(self.survived.values())


class ChaosProxy:
    """Forward ``/crm``, ``/psa`` and ``/erp`` to the simulator at ``upstream``, with faults.

    Usage::

        with ChaosProxy(simulator_url, Profile("rate_limits", {"rate_limit": 0.5})) as proxy:
            env = source_env(proxy.url, token, as_of)  # q2c's sources, pointed at the proxy
    """

    def __init__(
        self,
        upstream: str,
        profile: Profile = PASS_THROUGH,
        rewriter: RecordRewriter | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._upstream_address = (parts.hostname, parts.port)
        self.profile = profile
        self.rewriter = rewriter
        self.log = FaultLog()
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        self._in_a_row: Counter[str] = Counter()
        self._pending: dict[str, list[str]] = {}
        self._active = 0
        self._idle = threading.Condition(self._lock)
        self._httpd: _Server | None = None

    # -- lifecycle: a context manager ---------------------------------------------------

    def __enter__(self) -> Self:
        self._httpd = _Server((self._host, self._port), self)
        self._port = self._httpd.server_address[1]
        name = f"chaos-proxy:{self._port}"
        threading.Thread(target=self._httpd.serve_forever, name=name, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop once the requests in hand are done, so that ``log`` is final."""
        self.wait_idle()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()  # serve_forever returns: its thread ends
            httpd.close_connections()
            httpd.server_close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is in hand: a client has its answer a moment before the
        proxy has counted it. False when requests were still in hand at the timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("proxy not started")
        return f"http://{self._host}:{self._port}"

    # -- decisions ----------------------------------------------------------------------

    def decide(self, vendor: str, key: str) -> str | None:
        """The fault for this attempt of the request ``key`` (None: answer it), and count it."""
        profile = self.profile
        with self._lock:
            self.log.requests[vendor] += 1
            self._attempts[key] += 1
            kind = None
            if self._in_a_row[key] < profile.max_in_a_row:
                draw = random.Random(f"{profile.seed}|{key}|{self._attempts[key]}").random()
                bound = 0.0
                for candidate in FAULT_KINDS:
                    bound += profile.rates.get(candidate, 0.0)
                    if draw < bound:
                        kind = candidate
                        break
            if kind is None:
                self._in_a_row[key] = 0
                return None
            self._in_a_row[key] += 1
            self.log.faults[vendor] += 1
            self.log.injected[kind] += 1
            self._pending.setdefault(key, []).append(kind)
            return kind

    def _delivered(self, vendor: str, key: str) -> None:
        with self._lock:
            self.log.served[vendor] += 1
            for kind in self._pending.pop(key, []):
                self.log.survived[kind] += 1

    def _stall_ended(self, gave_up_after: float | None) -> None:
        with self._lock:
            if gave_up_after is None:
                self.log.stalls_waited += 1
            else:
                self.log.stalls_given_up.append(round(gave_up_after, 2))

    # -- one request --------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        with self._lock:
            self._active += 1
        try:
            self._handle(handler)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        vendor = next(
            (
                v
                for v in _VENDORS
                if handler.path == v.prefix or handler.path.startswith(v.prefix + "/")
            ),
            None,
        )
        key = f"{handler.command} {handler.path} {hashlib.sha256(body).hexdigest()[:16]}"
        kind = self.decide(vendor.name, key) if vendor is not None else None
        if vendor is not None and kind in ("rate_limit", "http_500", "http_502", "http_503"):
            handler.reply(self._error_response(vendor, kind))
            return
        if kind == "stall":
            gave_up = handler.stall(self.profile.stall_seconds)
            self._stall_ended(gave_up)
            if gave_up is not None:
                return
        response = self._forward(handler, body)
        if vendor is not None and self.rewriter is not None and response.status == 200:
            response.body = self.rewriter.rewrite(vendor.name, handler.path, body, response.body)
        if kind in ("drop_fin", "drop_rst"):
            handler.reply(response, drop=kind)
            return
        if handler.reply(response) and vendor is not None:
            self._delivered(vendor.name, key)

    def _error_response(self, vendor: VendorApi, kind: str) -> Response:
        retry_after = {"Retry-After": str(self.profile.retry_after_seconds)}
        if kind == "rate_limit":
            response = vendor.error(429, "Request limit exceeded; retry later.")
            response.headers.update(retry_after)
            return response
        if kind == "http_503":
            response = vendor.error(503, "The service is temporarily unavailable.")
            response.headers.update(retry_after)
            return response
        status = 500 if kind == "http_500" else 502
        reason = http.client.responses[status]
        html = _HTML.format(status=status, reason=reason).encode()
        return Response(status, html, "text/html")

    def _forward(self, handler: _Handler, body: bytes) -> Response:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Accept-Encoding"] = "identity"  # the proxy reads and rewrites bodies
        connection = http.client.HTTPConnection(*self._upstream_address, timeout=300)
        try:
            connection.request(handler.command, handler.path, body or None, headers)
            answer = connection.getresponse()
            payload = answer.read()
            kept = {
                k: v
                for k, v in answer.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() not in ("server", "date")
            }
        finally:
            connection.close()
        content_type = kept.pop("Content-Type", "application/octet-stream")
        payload = payload.replace(self.upstream.encode(), self.url.encode())
        for name, value in kept.items():
            kept[name] = value.replace(self.upstream, self.url)
        return Response(answer.status, payload, content_type, kept)


class _Server(SimulatorHTTPServer):
    """The simulator's own HTTP server (a thread per connection; idle keep-alive connections
    closed on stop), serving the proxy's handler instead of the simulator's."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: ChaosProxy) -> None:
        self.proxy = proxy
        super().__init__(address, simulator=None)  # type: ignore[arg-type]
        self.RequestHandlerClass = _Handler

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-request (killed, or past its timeout) is what the fault suite does
        to q2c on purpose: not worth socketserver's traceback on stderr."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(SimulatorHandler):
    """The simulator's request handler (HTTP/1.1 keep-alive, its way of writing an answer and
    of ending a connection with a FIN after half the body), handing each request to the proxy."""

    server_version = "q2c-chaos-proxy/1.0"
    server: _Server

    def _dispatch(self) -> None:
        self.server.proxy.handle(self)

    def reply(self, response: Response, drop: str | None = None) -> bool:
        """Send ``response``; with ``drop``, only its headers and half its body, then end the
        connection with a FIN (``drop_fin``) or an RST (``drop_rst``). Delivered in full?"""
        if drop == "drop_rst":
            self._reset_mid_body(response)
            return False
        asked_to_close = self.close_connection
        self._write(response, RequestFault(drop_connection=drop == "drop_fin"))
        # The simulator's handler closes the connection when a write fails.
        return drop is None and self.close_connection == asked_to_close

    def _reset_mid_body(self, response: Response) -> None:
        """The headers and half the body, then an RST (``SO_LINGER`` 0): a connection reset
        while the client reads the body."""
        body = response.body
        head = [
            f"HTTP/1.1 {response.status} {self.responses[response.status][0]}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        self.close_connection = True
        with suppress(OSError):
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            self.wfile.write(body[: len(body) // 2])
            time.sleep(0.05)  # the client is reading the body when the connection is reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def stall(self, seconds: float) -> float | None:
        """Send nothing for ``seconds``, watching the socket: the seconds after which the
        client closed it (it gave up), or None when it waited the whole stall."""
        started = time.monotonic()
        while (left := seconds - (time.monotonic() - started)) > 0:
            readable, _, _ = select.select([self.connection], [], [], left)
            if not readable:
                break
            try:
                peeked = self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                peeked = b""
            if not peeked:
                self.close_connection = True
                return time.monotonic() - started
            time.sleep(0.05)  # a pipelined request waits for this one
        return None
