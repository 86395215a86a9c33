"""Faults on demand, so connector retry and quarantine logic can be tested for real.

All switches are off by default and may be changed while the server runs. Request-level
faults (429, 5xx, dropped connections) are decided from one shared sequence number of
authenticated requests to the vendors the config applies to; record-level faults
(malformed records) from one shared count of records served. Both are deterministic
for a given request sequence; :meth:`FaultConfig.reset` restarts them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

VENDORS = ("salesforce", "harvest", "netsuite")

Path = tuple[str, ...]
"""Key path inside a wire record; length 2 for a Harvest nested object field."""

MalformedKind = Literal["missing_id", "wrong_type", "unknown_currency", "negative_hours"]
KINDS: tuple[MalformedKind, ...] = (
    "missing_id",
    "wrong_type",
    "unknown_currency",
    "negative_hours",
)


@dataclass(frozen=True)
class RecordShape:
    """Where the corruptible fields of one vendor object live in its wire records."""

    vendor: str
    object: str
    id_keys: tuple[str, ...]
    numeric_paths: tuple[Path, ...] = ()
    date_paths: tuple[Path, ...] = ()
    currency_paths: tuple[Path, ...] = ()
    hours_paths: tuple[Path, ...] = ()
    drift_key: str = "drift_field"

    @property
    def kinds(self) -> tuple[MalformedKind, ...]:
        present = {
            "missing_id": bool(self.id_keys),
            "wrong_type": bool(self.numeric_paths or self.date_paths),
            "unknown_currency": bool(self.currency_paths),
            "negative_hours": bool(self.hours_paths),
        }
        return tuple(k for k in KINDS if present[k])


@dataclass(frozen=True)
class RequestFault:
    """What the server must do to one request."""

    status: int | None = None
    """429, 500 or 503 instead of serving; None to serve normally."""
    drop_connection: bool = False
    delay_seconds: float = 0.0


def _get(record: dict[str, Any], path: Path) -> tuple[bool, Any]:
    target: Any = record
    for key in path:
        if not isinstance(target, dict) or key not in target:
            return False, None
        target = target[key]
    return True, target


def _set(record: dict[str, Any], path: Path, value: Any) -> None:
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _negate(value: Any) -> Any:
    if isinstance(value, str):  # NetSuite renders numbers as strings
        return value[1:] if value.startswith("-") else f"-{value}"
    return -value


@dataclass
class FaultConfig:
    rate_limit_every: int = 0
    """Every Nth request answers 429 with ``Retry-After``."""
    retry_after_seconds: int = 1
    server_error_every: int = 0
    """Every Nth request answers 503, then 500, alternating."""
    slow_ms: int = 0
    """Delay every response by this many milliseconds."""
    drop_connection_every: int = 0
    """Every Nth request: headers and part of the body, then the socket closes."""
    malformed_every: int = 0
    """Every Nth record served gets one corruption (kinds rotate per object)."""
    schema_drift: bool = False
    """Every record gets one extra vendor-style field."""
    duplicate_across_pages: bool = False
    """Each page after the first starts with the previous page's last record."""
    only_vendor: str | None = None
    """Restrict all faults to ``salesforce``, ``harvest`` or ``netsuite``."""
    refused_paths: dict[str, int] = field(default_factory=dict)
    """Vendor paths (``/v2/expenses``, as the vendor sees them) answered with this status and
    the vendor's error, every time: a feature the tenant switched off, a report the token's
    user may not read. Not limited by ``only_vendor``."""
    injected: list[dict[str, Any]] = field(default_factory=list)
    """Every malformed record injected: ``{"vendor", "object", "id", "kind"}``."""

    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )
    _requests: int = field(default=0, init=False, repr=False, compare=False)
    _server_errors: int = field(default=0, init=False, repr=False, compare=False)
    _records: int = field(default=0, init=False, repr=False, compare=False)
    _rotation: dict[tuple[str, str], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.only_vendor is not None and self.only_vendor not in VENDORS:
            raise ValueError(f"only_vendor must be one of {VENDORS} or None")

    def applies_to(self, vendor: str) -> bool:
        return self.only_vendor is None or self.only_vendor == vendor

    def reset(self) -> None:
        """Restart the request and record sequences and forget injections."""
        with self._lock:
            self._requests = self._server_errors = self._records = 0
            self._rotation.clear()
            self.injected.clear()

    @staticmethod
    def _hit(seq: int, every: int) -> bool:
        return every > 0 and seq % every == 0

    def refusal(self, path: str) -> int | None:
        """The status a refused path answers with, if ``path`` is one."""
        for prefix, status in self.refused_paths.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return status
        return None

    def on_request(self, vendor: str) -> RequestFault:
        """Advance the request sequence and decide this request's fault."""
        if not self.applies_to(vendor):
            return RequestFault()
        with self._lock:
            self._requests += 1
            seq = self._requests
            status = None
            if self._hit(seq, self.rate_limit_every):
                status = 429
            elif self._hit(seq, self.server_error_every):
                self._server_errors += 1
                status = 503 if self._server_errors % 2 else 500
            drop = status is None and self._hit(seq, self.drop_connection_every)
        return RequestFault(status, drop, max(0, self.slow_ms) / 1000.0)

    def want_duplicates(self, vendor: str) -> bool:
        return self.duplicate_across_pages and self.applies_to(vendor)

    def apply_to_records(
        self, shape: RecordShape, records: list[tuple[dict[str, Any], Any]]
    ) -> None:
        """Schema drift and malformed-record injection, in place.

        ``records`` pairs each wire record with its original id (for the injection log).
        """
        if not self.applies_to(shape.vendor):
            return
        if self.schema_drift:
            for record, _ in records:
                record[shape.drift_key] = "drift"
        every = self.malformed_every
        if every <= 0:
            return
        with self._lock:
            for record, original_id in records:
                self._records += 1
                if self._records % every == 0:
                    self._corrupt(shape, record, original_id)

    def _corrupt(self, shape: RecordShape, record: dict[str, Any], original_id: Any) -> None:
        kinds = shape.kinds
        if not kinds:
            return
        start = self._rotation.get((shape.vendor, shape.object), 0)
        for step in range(len(kinds)):
            kind = kinds[(start + step) % len(kinds)]
            if self._apply_kind(shape, record, kind):
                self._rotation[(shape.vendor, shape.object)] = start + step + 1
                self.injected.append(
                    {
                        "vendor": shape.vendor,
                        "object": shape.object,
                        "id": original_id,
                        "kind": kind,
                    }
                )
                return

    @staticmethod
    def _apply_kind(shape: RecordShape, record: dict[str, Any], kind: MalformedKind) -> bool:
        if kind == "missing_id":
            present = [k for k in shape.id_keys if k in record]
            for key in present:
                del record[key]
            return bool(present)
        if kind == "wrong_type":
            for paths, text in (
                (shape.numeric_paths, "not-a-number"),
                (shape.date_paths, "not-a-date"),
            ):
                for path in paths:
                    found, _ = _get(record, path)
                    if found:
                        _set(record, path, text)
                        return True
            return False
        if kind == "unknown_currency":
            for path in shape.currency_paths:
                found, _ = _get(record, path)
                if found:
                    _set(record, path, "XXX")
                    return True
            return False
        for path in shape.hours_paths:  # negative_hours
            found, value = _get(record, path)
            if found and value is not None and value not in (0, "0"):
                _set(record, path, _negate(value))
                return True
        return False
