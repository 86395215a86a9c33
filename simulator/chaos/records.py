"""Malformed records, written into the vendors' answers on their way to q2c, with a manifest.

A vendor sends what it sends: hours typed as a word, an amount with a thousands separator, a
record without its id, the same id twice with two contents. The chaos proxy
(``simulator.chaos.proxy``) rewrites chosen records of real answers of the simulator into
such shapes, so q2c's contracts meet them over the wire exactly as they would from the
vendor, and writes down what it changed (vendor, object, id, kind, and the records as sent),
which the suite then looks for in ``raw_<system>.quarantine``.

Which record: among the records of the first page of the object that can take the change,
one chosen by the seed; the same record is rewritten the same way whenever it is served
again (a retried page), so the manifest holds one entry per kind.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator.api.faults import _get, _set
from simulator.api.suiteql import sniff_table
from simulator.api.wire import dumps
from simulator.schema import VENDORS

Record = dict[str, Any]


def _negated(value: Any) -> Any:
    return -value


@dataclass(frozen=True)
class Corruption:
    """One kind of malformed record: where it goes and what it does to the record."""

    kind: str
    vendor: str
    """``salesforce``, ``harvest`` or ``netsuite``."""
    object: str
    """The vendor's object: Salesforce sObject, Harvest resource, NetSuite table."""
    path: tuple[str, ...]
    """The field changed (Harvest's nested objects: two keys)."""
    value: Any = None
    """The value written, or a function of the value sent (``transform``)."""
    transform: Callable[[Any], Any] | None = None
    duplicate: bool = False
    """Send the record twice in its page: as it is, then changed."""
    add: bool = False
    """The field is new: added to the record."""

    def applies(self, record: Record) -> bool:
        if self.add:
            return True
        found, value = _get(record, self.path)
        if not found or value is None:
            return False
        return self.transform is None or value != 0

    def new_value(self, record: Record) -> Any:
        if self.transform is None:
            return self.value
        return self.transform(_get(record, self.path)[1])


MALFORMED: tuple[Corruption, ...] = (
    Corruption("negative_hours", "harvest", "time_entries", ("hours",), transform=_negated),
    Corruption("hours_as_word", "harvest", "time_entries", ("hours",), "eight"),
    Corruption("amount_with_separator", "salesforce", "Opportunity", ("Amount",), "1,000.00"),
    Corruption("null_id", "salesforce", "Account", ("Id",), None),
    Corruption("amount_not_a_number", "netsuite", "transactionline", ("netamount",), "N/A"),
    Corruption("unknown_currency", "harvest", "expenses", ("client", "currency"), "ZZZ"),
    Corruption(
        "duplicate_id",
        "harvest",
        "time_entries",
        ("notes",),
        "changed in the second copy",
        duplicate=True,
    ),
    Corruption(
        "unexpected_field",
        "netsuite",
        "customer",
        ("custentity_chaos_note",),
        "a field q2c does not know",
        add=True,
    ),
)
"""The malformed records of issue #17, one of each."""

EXPECTED_LOADED = frozenset({"unexpected_field"})
"""Kinds whose record is loaded (the new field as text), not quarantined."""


def id_key(vendor: str, obj: str) -> str:
    """The field that identifies a record of the object (the first of its primary key)."""
    return VENDORS[vendor][obj].primary_key[0]


@dataclass
class Rewritten:
    """One manifest entry: what was changed, and the records as q2c received them."""

    kind: str
    vendor: str
    object: str
    id: str
    field: str
    records: list[Record]

    def as_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "object": self.object,
            "id": self.id,
            "kind": self.kind,
            "field": self.field,
            "records": self.records,
        }


class RecordRewriter:
    """Rewrites chosen records of the simulator's answers (``rewrite``) and keeps the manifest."""

    def __init__(self, seed: int, corruptions: tuple[Corruption, ...] = MALFORMED) -> None:
        self.seed = seed
        self.corruptions = corruptions
        self._chosen: dict[str, Any] = {}
        """kind -> the id of the record it rewrote."""
        self._entries: dict[str, Rewritten] = {}
        self._lock = threading.Lock()

    @property
    def manifest(self) -> list[Rewritten]:
        with self._lock:
            return [self._entries[c.kind] for c in self.corruptions if c.kind in self._entries]

    def write_manifest(self, path: Path) -> None:
        path.write_bytes(dumps([entry.as_json() for entry in self.manifest]))

    def rewrite(self, vendor: str, path: str, request_body: bytes, body: bytes) -> bytes:
        """The answer to one request, with the chosen records rewritten (else unchanged)."""
        wanted = [c for c in self.corruptions if c.vendor == vendor]
        if not wanted:
            return body
        try:
            page = json.loads(body, parse_float=Decimal)
        except ValueError:
            return body
        located = _records(vendor, path, request_body, page)
        if located is None:
            return body
        obj, records = located
        changed = False
        with self._lock:
            for corruption in wanted:
                if corruption.object == obj and self._apply(corruption, records):
                    changed = True
        return dumps(page) if changed else body

    def _apply(self, corruption: Corruption, records: list[Record]) -> bool:
        key = id_key(corruption.vendor, corruption.object)
        chosen = self._chosen.get(corruption.kind)
        if chosen is None:
            taken = set(self._chosen.values())
            eligible = [r for r in records if r.get(key) not in taken and corruption.applies(r)]
            if not eligible:
                return False
            index = random.Random(f"{self.seed}|{corruption.kind}").randrange(len(eligible))
            chosen = self._chosen[corruption.kind] = eligible[index][key]
        at = next((i for i, r in enumerate(records) if r.get(key) == chosen), None)
        if at is None:
            return False
        original = records[at]
        changed = copy.deepcopy(original)
        _set(changed, corruption.path, corruption.new_value(original))
        if corruption.duplicate:
            records.insert(at + 1, changed)
            sent = [original, changed]
        else:
            records[at] = changed
            sent = [changed]
        self._entries[corruption.kind] = Rewritten(
            corruption.kind,
            corruption.vendor,
            corruption.object,
            str(chosen),
            ".".join(corruption.path),
            copy.deepcopy(sent),
        )
        return True


def _records(
    vendor: str, path: str, request_body: bytes, page: Any
) -> tuple[str, list[Record]] | None:
    """The object and the records of one answer, where each vendor puts them."""
    if not isinstance(page, dict):
        return None
    if vendor == "salesforce":
        records = page.get("records")
        if not isinstance(records, list) or not records:
            return None
        return str((records[0].get("attributes") or {}).get("type")), records
    if vendor == "harvest":
        resource = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        records = page.get(resource)
        return (resource, records) if isinstance(records, list) else None
    try:
        query = json.loads(request_body or b"{}").get("q", "")
    except (ValueError, AttributeError):
        return None
    records = page.get("items")
    table = sniff_table(str(query))
    return (table, records) if table and isinstance(records, list) else None
