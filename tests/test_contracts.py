"""Record contracts: a page loads whole, bad records are split off with a reason, drift is kept."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pytest

from pipelines.defs.ingest.erp.objects import erp_tables
from pipelines.defs.ingest.psa.objects import RESOURCES as PSA_RESOURCES
from pipelines.lib import contracts
from pipelines.lib.contracts import PageResult, convert_page, parse_page
from pipelines.lib.tenant import load_tenant

TIME_ENTRIES = PSA_RESOURCES["time_entries"]


def wire(*records: dict) -> list[dict]:
    """Records as the extraction hands them over: written as JSON, read with parse_page."""
    return parse_page(json.dumps(list(records)))


def time_entry(id_: int | None, **overrides) -> dict:
    record = {
        "id": id_,
        "spent_date": "2026-10-05",
        "hours": 7.25,
        "billable": True,
        "billable_rate": 180.5,
        "is_closed": True,
        "user": {"id": 9, "name": "Ada Lovelace"},
        "client": {"id": 3, "name": "Northwind Ltd", "currency": "GBP"},
        "project": {"id": 11, "name": "Rollout", "code": "006000000000001AAA"},
        "task": {"id": 2, "name": "Consultant"},
        "invoice": None,
        "created_at": "2026-10-05T17:00:00Z",
        "updated_at": "2026-10-06T09:30:00Z",
    }
    if id_ is None:
        del record["id"]
    record.update(overrides)
    return record


def test_clean_page_is_one_typed_table() -> None:
    result = convert_page(wire(time_entry(1), time_entry(2)), TIME_ENTRIES, "psa")
    assert result.quarantined == []
    table = result.table
    assert table.num_rows == 2
    assert table.schema.field("hours").type == pa.decimal128(18, 2)
    assert table.column("billable_rate").to_pylist() == [Decimal("180.50")] * 2
    assert table.column("client_currency").to_pylist() == ["GBP", "GBP"]
    assert table.column("invoice_number").to_pylist() == [None, None]
    assert pa.types.is_timestamp(table.schema.field("updated_at").type)


def test_each_broken_record_is_quarantined_with_its_reason() -> None:
    page = wire(
        time_entry(1),
        time_entry(None),
        time_entry(3, hours="not-a-number"),
        time_entry(4, client={"id": 3, "name": "Northwind Ltd", "currency": "XXY"}),
        time_entry(5, hours=-2.0),
        time_entry(6),
    )
    result = convert_page(page, TIME_ENTRIES, "psa")
    assert result.table.column("id").to_pylist() == [1, 6]
    reasons = {q["record_id"]: q["reason"] for q in result.quarantined}
    assert reasons[None].startswith("missing key: id")
    assert reasons["3"].startswith("wrong type: hours")
    assert reasons["4"].startswith("unknown currency")
    assert reasons["5"].startswith("negative value: hours")
    for row in result.quarantined:
        assert row["source"] == "psa" and row["resource"] == "time_entries"
        json.loads(row["payload"])


def test_a_fraction_or_a_boolean_where_a_number_belongs_is_quarantined_not_truncated() -> None:
    # Read into int64 or float64, these would load as user_id 9, hours 1.0 and rate 180.55.
    page = wire(
        time_entry(1, billable_rate=1234567.89),
        time_entry(2, user={"id": 9.5, "name": "Ada Lovelace"}),
        time_entry(3, hours=True),
        time_entry(4, billable_rate=180.555),
    )
    result = convert_page(page, TIME_ENTRIES, "psa")
    assert result.table.column("id").to_pylist() == [1]
    assert result.table.column("billable_rate").to_pylist() == [Decimal("1234567.89")]
    reasons = {q["record_id"]: q["reason"] for q in result.quarantined}
    assert reasons["2"].startswith("wrong type: user_id")
    assert reasons["3"].startswith("wrong type: hours")
    assert reasons["4"].startswith("wrong type: billable_rate")
    payload = json.loads(next(q for q in result.quarantined if q["record_id"] == "4")["payload"])
    assert payload["billable_rate"] == 180.555  # the payload keeps the number as sent


def page_converted_whole(monkeypatch: pytest.MonkeyPatch, page: list[dict]) -> PageResult:
    """``page`` converted by the fast path, which must not fall back record by record."""

    def fall_back(*args: object) -> PageResult:
        raise AssertionError("the page fell back to the record-by-record conversion")

    with monkeypatch.context() as patch:
        patch.setattr(contracts, "_slow_page", fall_back)
        return convert_page(page, TIME_ENTRIES, "psa")


def test_a_record_loads_alike_whether_its_page_is_converted_whole_or_record_by_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An id sent as 9.0 and a rate as 180.550 lose nothing: both paths load them as 9 and
    180.55 (a page with one bad record is converted record by record)."""

    def page(*more: dict) -> list[dict]:
        records = wire(time_entry(1), time_entry(2), *more)
        records[1]["user"]["id"] = Decimal("9.0")
        records[1]["billable_rate"] = Decimal("180.550")
        return records

    whole = page_converted_whole(monkeypatch, page())
    by_record = convert_page(page(time_entry(3, hours=True)), TIME_ENTRIES, "psa")
    assert [q["record_id"] for q in by_record.quarantined] == ["3"]
    for result in (whole, by_record):
        assert result.table.column("id").to_pylist() == [1, 2]
        assert result.table.column("user_id").to_pylist() == [9, 9]
        assert result.table.column("billable_rate")[1].as_py() == Decimal("180.55")
    assert whole.table.equals(by_record.table)


def test_rule_violations_on_a_well_typed_page_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = wire(time_entry(1), time_entry(2, hours=-1.0), time_entry(3))
    result = page_converted_whole(monkeypatch, page)
    assert result.table.column("id").to_pylist() == [1, 3]
    assert [q["record_id"] for q in result.quarantined] == ["2"]


def test_new_field_is_taken_in_as_text_and_reported() -> None:
    page = wire(time_entry(1, drift_field={"a": 1.5}), time_entry(2))
    result = convert_page(page, TIME_ENTRIES, "psa")
    assert result.new_fields == {"drift_field"}
    assert result.table.column("drift_field").to_pylist() == ['{"a":1.5}', None]


def test_netsuite_text_is_kept_and_checked() -> None:
    contract = erp_tables(load_tenant())["transactionline"].contract
    good = {
        "uniquekey": "77",
        "transaction": "5",
        "id": "1",
        "quantity": "12.5",
        "rate": "150",
        "netamount": "1875",
        "mainline": "F",
        "linelastmodifieddate": "2026-10-31 18:00:00",
    }
    bad = {**good, "uniquekey": "78", "netamount": "abc"}
    result = convert_page([good, bad], contract, "erp")
    assert result.table.column("netamount").to_pylist() == ["1875"]
    assert result.table.column("quantity").to_pylist() == ["12.5"]
    assert pa.types.is_timestamp(result.table.schema.field("linelastmodifieddate").type)
    assert [q["record_id"] for q in result.quarantined] == ["78"]
    assert "netamount" in result.quarantined[0]["reason"]


@pytest.mark.parametrize("with_a_bad_value", [False, True], ids=["page path", "record path"])
def test_one_id_twice_in_a_page_is_one_record_or_a_conflict_both_refused(
    with_a_bad_value: bool,
) -> None:
    """An exact copy is the same record; two different records under one id cannot both be
    true and neither may win silently: both go to the quarantine with their payloads."""
    extra = [time_entry(9, hours="eight")] if with_a_bad_value else []
    page = wire(
        time_entry(1),
        time_entry(2),
        time_entry(2),
        time_entry(3, hours=4.0),
        time_entry(3, hours=6.5),
        time_entry(4),
        *extra,
    )
    result = convert_page(page, TIME_ENTRIES, "psa")
    assert sorted(result.table.column("id").to_pylist()) == [1, 2, 4]
    duplicates = [
        q for q in result.quarantined if q["reason"].startswith(contracts.DUPLICATE_REASON)
    ]
    assert [q["record_id"] for q in duplicates] == ["3", "3"]
    assert sorted(json.loads(q["payload"])["hours"] for q in duplicates) == [4.0, 6.5]
    assert "2 copies, all refused" in duplicates[0]["reason"]
    assert len(result.quarantined) == 2 + len(extra)
