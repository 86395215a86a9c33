"""What every source shares: the HTTP client, the page loop and the run's figures.

Sources differ only in endpoints, paginators and contracts; how a page is fetched,
retried, converted, quarantined and counted is decided here once.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Response

from pipelines.lib.contracts import Contract, convert_page, parse_page

QUARANTINE_TABLE = "quarantine"

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


@dataclass
class ExtractStats:
    """Figures of one extraction run, reported as Dagster metadata."""

    requests: int = 0
    retried_responses: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    new_fields: dict[str, list[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def should_retry(self, response: Response | None, exception: BaseException | None) -> bool:
        """Called by dlt's retrying session after every attempt: counts it and decides."""
        self.requests += 1
        transient = (
            isinstance(exception, _RETRY_EXCEPTIONS)
            if response is None
            else response.status_code in _RETRY_STATUS
        )
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


def make_client(
    base_url: str,
    headers: dict[str, str],
    stats: ExtractStats,
    max_attempts: int = 6,
) -> RESTClient:
    """A REST client on dlt's retrying session, counting every response it gets."""
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
    return _RESTClient(base_url=base_url.rstrip("/"), headers=headers, session=session)


class _RESTClient(RESTClient):
    """dlt's REST client, parsing each response body once: the client reads it for the
    records and the paginator again for the next link, and requests' parser (simplejson
    where installed) is slower than the standard library's."""

    def extract_response(self, response: Response, data_selector: Any) -> list[Any]:
        _parse_once(response)
        return super().extract_response(response, data_selector)


def _parse_once(response: Response) -> None:
    parsed: list[Any] = []
    fallback = response.json

    def body(**options: Any) -> Any:
        if not parsed:
            try:
                parsed.append(parse_page(response.content))
            except ValueError:
                return fallback(**options)  # requests' own error for a body that is not JSON
        return parsed[0]

    response.json = body  # type: ignore[method-assign]


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


def paginate(
    client: RESTClient,
    path: str,
    paginator: BasePaginator,
    data_selector: str,
    **request: Any,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of records from one endpoint, with an explicit paginator and selector.

    The next page is fetched while this one is converted and loaded, so the vendor's
    serving and our processing overlap instead of adding up.
    """
    pages = client.paginate(path, paginator=paginator, data_selector=data_selector, **request)
    yield from _read_ahead(list(page) for page in pages)


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
