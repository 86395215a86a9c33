"""What every source shares: the HTTP client, the page loop, failures and the run's figures.

Sources differ only in endpoints, paginators and contracts; how a page is fetched,
retried, parsed, converted, quarantined and counted, and what a refused request means, is
decided here once.

Failures come in two kinds. Transient ones (429, 5xx, a dropped or reset connection, a
timeout) are retried per request by the HTTP client, with backoff and ``Retry-After``;
when they outlast those retries the extract step is retried later (``is_transient``).
Permanent ones (any other 4xx, and nothing listening at the base URL) are a setting to
fix: no layer retries them, and ``SourceError`` says in one line which source, which
request, the vendor's own explanation and the setting to check.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import queue
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
import requests
from dlt.common import jsonpath
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.client import PageData
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    JSONLinkPaginator,
    OffsetPaginator,
)
from requests import Response

from pipelines.lib.contracts import Contract, convert_page, parse_page
from pipelines.lib.tenant import TENANT_PROFILE_VAR
from pipelines.settings import SYSTEM_NAMES

QUARANTINE_TABLE = "quarantine"
PROFILE_QUERIES = frozenset({"crm", "erp"})
"""Systems whose queries name the fields the tenant profile gives (custom fields, fields an
org lacks): a refused query points at the profile."""

INITIAL_CURSOR = datetime(2000, 1, 1, tzinfo=UTC)
"""Where a first sync starts: before any record of any firm."""

# Retried with exponential backoff, honouring Retry-After; a dropped connection is retried too.
_RETRY_STATUS = (429, 500, 502, 503, 504)
_RETRY_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_TRANSIENT_STATUS = (408, 425, 429)
"""4xx answers that mean "later", not "wrong"; every 5xx is transient too."""


_SECRETS = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)?\s*)[^\s\"',;&]+"
    r"|((?:access_token|refresh_token|token|client_secret|password)=)[^\s\"'&;,]+"
)


def redact(text: str) -> str:
    """``text`` with credentials blanked: an ``Authorization`` header's value and
    ``access_token=``/``token=``-style query parameters, as errors of HTTP libraries quote
    them (a URL, a request's headers)."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


def setting_name(system: str, key: str) -> str:
    """The environment variable of one source setting, e.g. SOURCES__ERP__ACCESS_TOKEN."""
    return f"SOURCES__{system.upper()}__{key.upper()}"


class SourceError(Exception):
    """A source refused a request for a reason no retry can fix: a setting is wrong.

    The message is one line: the source, the request, the HTTP status, the vendor's own
    explanation, and the setting to check.
    """

    def __init__(self, system: str, line: str) -> None:
        super().__init__(line)
        self.system = system


class SourceHTTPError(requests.HTTPError):
    """An error answer from a vendor, read once: its status, the request and the vendor's
    explanation. An ``HTTPError`` (with the response), so the client's retry predicate sees
    the status of a transient one and retries it."""

    def __init__(self, system: str, response: Response, what: str) -> None:
        self.system, self.status, self.what = system, response.status_code, what
        self.vendor_message = vendor_message(response)
        request = response.request
        self.request_line = f"{request.method} {urlsplit(response.url).path}" if request else ""
        super().__init__(self.line(), response=response)

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.status in _TRANSIENT_STATUS

    def setting(self) -> str:
        if self.status in (401, 403) and self.system == "psa":  # Harvest: a token per account
            return f"{setting_name('psa', 'access_token')} and {setting_name('psa', 'account_id')}"
        if self.status in (401, 403):
            return setting_name(self.system, "access_token")
        if self.status == 404:
            return setting_name(self.system, "base_url")
        if self.system in PROFILE_QUERIES:  # the query is the contract's, the profile's fields
            return f"the fields of {self.what} in the tenant profile, {TENANT_PROFILE_VAR}"
        return f"the query of {self.what}"

    def line(self) -> str:
        said = f": {redact(self.vendor_message)}" if self.vendor_message else ""
        return (
            f"{SYSTEM_NAMES.get(self.system, self.system)} answered HTTP {self.status} to "
            f"{self.request_line} ({self.what}){said} (check {self.setting()})"
        )


def vendor_message(response: Response, limit: int = 300) -> str:
    """The explanation a vendor put in its error body: Salesforce's ``[{errorCode,
    message}]``, Harvest's ``error_description`` or ``message``, NetSuite's
    ``o:errorDetails[].detail``; otherwise the start of the body's text."""
    try:
        body = json.loads(response.content)
    except ValueError:
        text = re.sub(r"<[^>]+>", " ", response.text or "")
        return " ".join(text.split())[:limit]
    found: list[str] = []
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict):
            continue
        for detail in item.get("o:errorDetails") or []:
            if isinstance(detail, dict) and detail.get("detail"):
                found.append(str(detail["detail"]))
        if not found:
            for key in ("error_description", "message", "error", "title"):
                if item.get(key):
                    code = item.get("errorCode")
                    text = _explanation(str(item[key]))
                    found.append(f"{code}: {text}" if code else text)
                    break
    return " ".join("; ".join(found).split())[:limit]


def _explanation(message: str) -> str:
    """The line of a multi-line vendor message that explains it: Salesforce repeats the query
    and points at the column first (``\nSELECT ...\n ^\nERROR at Row:1:Column:40\nNo such
    column 'ParentId' on entity 'Account'...``), and puts the reason last."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if len(lines) > 1 else message


def permanent_failure(error: BaseException, base_url: str | None = None) -> SourceError | None:
    """The ``SourceError`` behind ``error`` (a failed sync), or None when it is transient.

    dlt wraps what a resource raised in its own errors; the cause chain is followed to the
    vendor's answer. A connection refused before any response was ever received means
    nothing listens at the base URL: a setting, not an outage.
    """
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, SourceError):
            return cause
        if isinstance(cause, SourceHTTPError):
            return None if cause.transient else SourceError(cause.system, cause.line())
        if isinstance(cause, _NothingListening):
            return SourceError(cause.system, str(cause))
        cause = cause.__cause__ or cause.__context__
    return None


class _NothingListening(requests.ConnectionError):
    def __init__(self, system: str, base_url: str) -> None:
        super().__init__(
            f"{SYSTEM_NAMES.get(system, system)}: nothing answers at {base_url} "
            f"(connection refused; check {setting_name(system, 'base_url')})"
        )
        self.system = system


@dataclass
class ExtractStats:
    """Figures of one extraction run, reported as Dagster metadata."""

    requests: int = 0
    retried_responses: int = 0
    responses: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    new_fields: dict[str, list[str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Optional resources the source refused, with its one-line answer."""
    started: float = field(default_factory=time.monotonic)

    def should_retry(self, response: Response | None, exception: BaseException | None) -> bool:
        """Called by dlt's retrying session after every attempt: counts it and decides."""
        self.requests += 1
        if response is not None:
            self.responses += 1
        transient = (
            isinstance(exception, _RETRY_EXCEPTIONS) and not _refused(exception)
            if response is None
            else response.status_code in _RETRY_STATUS
        )
        if response is None and _refused(exception) and self.responses:
            transient = True  # it answered before: a restart, not a wrong address
        if transient:
            self.retried_responses += 1
        return transient

    def add_page(self, resource: str, records: int, quarantined: int, new_fields: set[str]) -> None:
        self.pages[resource] = self.pages.get(resource, 0) + 1
        self.records[resource] = self.records.get(resource, 0) + records
        if quarantined:
            self.quarantined[resource] = self.quarantined.get(resource, 0) + quarantined
        if new_fields:
            known = set(self.new_fields.get(resource, ()))
            self.new_fields[resource] = sorted(known | new_fields)

    @property
    def elapsed_seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)


def _refused(exception: BaseException | None) -> bool:
    """A connection refused outright (nothing listening), as opposed to dropped or timed out:
    somewhere in what requests and urllib3 wrapped (arguments, reasons, causes)."""
    pending, seen = [exception], set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]
    return False


@dataclass(frozen=True)
class Endpoint:
    """One paged request of a source: where, how it pages, where its records are."""

    path: str
    paginator: Callable[[], BasePaginator]
    """A new paginator for each request (a paginator keeps the state of one request)."""
    data_selector: str
    method: str = "GET"
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


class SourceClient(RESTClient):
    """dlt's REST client for one source system: every response counted by the retrying
    session, error answers read once into a ``SourceHTTPError``, and each body parsed once
    (numbers with a fraction as Decimal) for both the records and the next page's link."""

    def __init__(self, system: str, base_url: str, headers: dict[str, str], session: Any):
        super().__init__(base_url=base_url.rstrip("/"), headers=headers, session=session)
        self.system = system

    def extract_response(self, response: Response, data_selector: Any) -> list[Any]:
        data: Any = jsonpath.find_values(data_selector, parsed_body(response))
        data = data[0] if isinstance(data, list) and len(data) == 1 else data
        if data is None:
            return []
        return data if isinstance(data, list) else [data]

    def pages(self, endpoint: Endpoint, what: str) -> Iterator[PageData[Any]]:
        """Every page of ``endpoint`` (``what`` names it in errors: the resource)."""

        def check(response: Response, *args: Any, **kwargs: Any) -> None:
            if response.status_code >= 400:
                raise SourceHTTPError(self.system, response, what)

        try:
            yield from self.paginate(
                endpoint.path,
                method=endpoint.method,  # type: ignore[arg-type]
                params=endpoint.params,
                json=endpoint.json,
                paginator=endpoint.paginator(),
                data_selector=endpoint.data_selector,
                hooks={"response": [check]},
            )
        except requests.ConnectionError as exc:
            if _refused(exc) and not isinstance(exc, _NothingListening):
                raise _NothingListening(self.system, self.base_url) from exc
            raise


_BODIES: weakref.WeakKeyDictionary[Response, Any] = weakref.WeakKeyDictionary()


def parsed_body(response: Response) -> Any:
    """A response's JSON body, parsed once (``parse_page``) for the client and its paginator."""
    body = _BODIES.get(response)
    if body is None:
        body = _BODIES[response] = parse_page(response.content)
    return body


class NextLinkPaginator(JSONLinkPaginator):
    """``JSONLinkPaginator`` reading the next link from the body the client parsed."""

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        values = jsonpath.find_values(self.next_url_path, parsed_body(response))
        self._next_reference = values[0] if values else None


class HasMoreOffsetPaginator(OffsetPaginator):
    """``limit``/``offset`` pages until the body's boolean ``has_more_path`` is false, read
    from the body the client parsed."""

    def __init__(self, limit: int, has_more_path: str) -> None:
        super().__init__(limit=limit, total_path=None, has_more_path=has_more_path)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        values = jsonpath.find_values(self.has_more_path, parsed_body(response))
        has_more = values[0] if values else None
        if not isinstance(has_more, bool):
            raise ValueError(
                f"{response.url}: expected a boolean `{self.has_more_path}` in the page, "
                f"got {has_more!r}"
            )
        self.current_value += self.value_step
        self._has_next_page = has_more and not (self.stop_after_empty_page and not data)


def make_client(
    system: str,
    base_url: str,
    headers: dict[str, str],
    stats: ExtractStats,
    max_attempts: int = 6,
) -> SourceClient:
    """A client on dlt's retrying session, counting every response it gets."""
    session = Client(
        raise_for_status=False,
        # One predicate both counts every attempt and decides the retry (429, 5xx, drops).
        status_codes=(),
        exceptions=(),
        retry_condition=stats.should_retry,
        request_max_attempts=max_attempts,
        request_backoff_factor=0.5,
        request_max_retry_delay=30,
        respect_retry_after_header=True,
    ).session
    return SourceClient(system, base_url, headers, session)


def optional(
    pages: Iterable[list[dict[str, Any]]], what: str, stats: ExtractStats
) -> Iterator[Any]:
    """The pages of a resource the rules can do without: a refusal (a feature the tenant has
    switched off, a report the token may not read) ends it with nothing loaded and the answer
    recorded in the run's figures, instead of failing the whole sync."""
    try:
        yield from pages
    except SourceHTTPError as exc:
        if exc.transient:
            raise
        stats.unavailable[what] = exc.line()


def arrow_pages(
    pages: Iterable[list[dict[str, Any]]],
    contract: Contract,
    source: str,
    stats: ExtractStats,
) -> Iterator[Any]:
    """Yield each page as one Arrow table; refused records go to the quarantine table.

    A resource with no rows yet still yields its empty, typed table, so the raw table
    exists for the models downstream from the first sync on.
    """
    loaded_any = False
    for page in pages:
        result = convert_page(page, contract, source)
        stats.add_page(
            contract.resource, result.table.num_rows, len(result.quarantined), result.new_fields
        )
        if result.table.num_rows:
            loaded_any = True
            yield result.table
        if result.quarantined:
            yield dlt.mark.with_hints(
                result.quarantined,
                dlt.mark.make_hints(
                    table_name=QUARANTINE_TABLE, write_disposition="append", primary_key=()
                ),
                create_table_variant=True,
            )
    if not loaded_any:
        yield contract.arrow_schema.empty_table()


def paginate(client: SourceClient, endpoint: Endpoint, what: str) -> Iterator[list[dict[str, Any]]]:
    """The records of every page of ``endpoint``, a page at a time.

    The next page is fetched while this one is converted and loaded, so the vendor's
    serving and our processing overlap instead of adding up.
    """
    yield from _read_ahead(list(page) for page in client.pages(endpoint, what))


_DONE = object()


def _read_ahead(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """Run ``items`` in a thread, ``depth`` items ahead of the consumer.

    An error in the thread is raised here; a consumer that stops early (an error
    downstream, a closed generator) stops the thread, which closes ``items`` itself.
    """
    ahead: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
            else:
                put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_DONE, exc))
        finally:
            items.close()  # type: ignore[attr-defined]

    worker = threading.Thread(target=produce, name="q2c-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = ahead.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def modified_since(cursor: str, lookback_seconds: int) -> dlt.sources.incremental:
    """The incremental cursor of every resource: the vendor's modification time, re-read
    ``lookback_seconds`` behind the last value for late writes (merging makes that safe).

    Quarantine rows carry no cursor; every good row has one (its contract requires it).
    """
    return dlt.sources.incremental(
        cursor,
        initial_value=INITIAL_CURSOR,
        lag=lookback_seconds,
        on_cursor_value_missing="include",
    )


def release_memory() -> None:
    """Hand a finished sync's memory back to the system. The run's process lives on through
    dbt (its own process, beside this one) and the checks; the parsed pages, Arrow buffers
    and dlt's working sets it freed would otherwise stay reserved by the allocators."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: it keeps what it keeps
        ctypes.CDLL("libc.so.6").malloc_trim(0)
