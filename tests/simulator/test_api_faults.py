"""Faults on demand: each switch is observable over real HTTP, deterministic, and counted."""

from __future__ import annotations

import itertools
import time

import pytest
import requests

from simulator.api.faults import FaultConfig

SF_BATCH = {"Sforce-Query-Options": "batchSize=200"}


def statuses(call, n: int) -> list[int]:
    return [call().status_code for _ in range(n)]


def test_rate_limit_every_nth_request_in_each_vendor_format(api) -> None:
    api.server.faults = FaultConfig(rate_limit_every=3, retry_after_seconds=2)

    def sf():
        return api.sf_query("SELECT Id FROM Account LIMIT 1")

    assert statuses(sf, 6) == [200, 200, 429, 200, 200, 429]
    resp = sf(), sf(), sf()
    limited = resp[2]
    assert limited.headers["Retry-After"] == "2"
    assert limited.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    hv = api.hv_get("clients")  # request 10: served; 12 is limited
    assert hv.status_code == 200
    api.hv_get("clients")
    hv = api.hv_get("clients")
    assert hv.status_code == 429 and hv.headers["Retry-After"] == "2" and "message" in hv.json()
    api.ns_query("SELECT id FROM currency")
    api.ns_query("SELECT id FROM currency")
    ns = api.ns_query("SELECT id FROM currency")
    assert ns.status_code == 429
    assert ns.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    # Every request is counted, faulted or not.
    assert api.server.counters["crm:query:Account"] == 9
    assert api.server.total_requests == 15


def test_server_errors_alternate_503_and_500(api) -> None:
    api.server.faults = FaultConfig(server_error_every=2)

    def hv():
        return api.hv_get("tasks")

    assert statuses(hv, 6) == [200, 503, 200, 500, 200, 503]
    resp = api.sf_query("SELECT Id FROM Account LIMIT 1"), api.sf_query("SELECT Id FROM Account")
    assert resp[1].status_code == 500 and resp[1].json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    api.ns_query("SELECT id FROM currency")
    ns = api.ns_query("SELECT id FROM currency")
    assert ns.status_code == 503 and ns.json()["title"] == "Service Unavailable"


def test_slow_responses(api) -> None:
    api.server.faults = FaultConfig(slow_ms=150)
    started = time.perf_counter()
    assert api.hv_get("tasks").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_dropped_connections_give_incomplete_reads(api) -> None:
    api.server.faults = FaultConfig(drop_connection_every=2)
    assert api.hv_get("time_entries").status_code == 200
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        api.hv_get("time_entries")
    assert api.hv_get("time_entries").status_code == 200  # the client reconnects
    assert api.server.counters["psa:time_entries"] == 3


def test_malformed_harvest_records_rotate_kinds_and_are_logged(api) -> None:
    clean = api.hv_get("time_entries", per_page=100).json()["time_entries"]
    api.server.faults = FaultConfig(malformed_every=7)
    served = api.hv_get("time_entries", per_page=100).json()["time_entries"]
    injected = api.server.faults.injected
    kinds = ["missing_id", "wrong_type", "unknown_currency", "negative_hours"]
    assert [x["kind"] for x in injected] == [kinds[n % 4] for n in range(100 // 7)]
    for n, entry in enumerate(injected):
        position = 7 * (n + 1) - 1
        record, original = served[position], clean[position]
        assert entry == {
            "vendor": "harvest",
            "object": "time_entries",
            "id": original["id"],
            "kind": entry["kind"],
        }
        if entry["kind"] == "missing_id":
            assert "id" not in record
        elif entry["kind"] == "wrong_type":
            assert record["hours"] == "not-a-number"
        elif entry["kind"] == "unknown_currency":
            assert record["client"]["currency"] == "XXX"
        else:
            assert record["hours"] == -original["hours"] < 0
    untouched = set(range(100)) - {7 * (n + 1) - 1 for n in range(len(injected))}
    assert all(served[i] == clean[i] for i in untouched)


def test_malformed_salesforce_and_netsuite_records(api) -> None:
    api.server.faults = FaultConfig(malformed_every=2)
    _, records = api.sf_all(
        "SELECT Id, Quantity, CurrencyIsoCode FROM OpportunityLineItem ORDER BY Id LIMIT 8"
    )
    assert [x["kind"] for x in api.server.faults.injected] == [
        "missing_id", "wrong_type", "unknown_currency", "negative_hours"
    ]  # fmt: skip
    assert "Id" not in records[1] and records[1]["attributes"]["type"] == "OpportunityLineItem"
    assert records[3]["Quantity"] == "not-a-number"
    assert records[5]["CurrencyIsoCode"] == "XXX"
    assert records[7]["Quantity"] < 0
    assert [x["id"] for x in api.server.faults.injected] == [f"00kA{i:011d}" for i in (2, 4, 6, 8)]

    api.server.faults = FaultConfig(malformed_every=3)
    items = api.ns_query("SELECT uniquekey, quantity, memo FROM transactionline", limit=9).json()[
        "items"
    ]
    # transactionline has no currency field: the rotation skips that kind.
    assert [x["kind"] for x in api.server.faults.injected] == [
        "missing_id", "wrong_type", "negative_hours"
    ]  # fmt: skip
    assert "uniquekey" not in items[2]
    assert items[5]["quantity"] == "not-a-number"
    assert items[8]["quantity"] == "-8.5"
    assert [x["id"] for x in api.server.faults.injected] == ["2", "5", "8"]


def test_schema_drift_adds_one_vendor_style_field(api) -> None:
    api.server.faults = FaultConfig(schema_drift=True)
    sf = api.sf_query("SELECT Id FROM Account LIMIT 3").json()["records"]
    hv = api.hv_get("clients").json()["clients"]
    ns = api.ns_query("SELECT id FROM currency").json()["items"]
    assert all(r["Drift_Field__c"] == "drift" for r in sf)
    assert all(r["drift_field"] == "drift" for r in hv)
    assert all(r["custbody_drift_field"] == "drift" for r in ns)


def test_duplicate_across_pages(api) -> None:
    api.server.faults = FaultConfig(duplicate_across_pages=True)
    pages, records = api.sf_all("SELECT Id FROM Account", headers=SF_BATCH)
    assert pages[1]["records"][0] == pages[0]["records"][-1]
    assert len(records) == 401 and len({r["Id"] for r in records}) == 400
    hv_pages, entries = api.hv_all("time_entries", per_page=200)
    for before, after in itertools.pairwise(hv_pages):
        assert after["time_entries"][0] == before["time_entries"][-1]
    assert len(entries) == 530 + 2
    ns_pages, _items = api.ns_all("SELECT uniquekey FROM transactionline", limit=1000)
    assert [p["count"] for p in ns_pages] == [1000, 1001, 301]
    assert ns_pages[2]["items"][0] == ns_pages[1]["items"][-1]


def test_only_vendor_restricts_faults(api) -> None:
    api.server.faults = FaultConfig(rate_limit_every=1, schema_drift=True, only_vendor="harvest")
    assert api.hv_get("clients").status_code == 429
    sf = api.sf_query("SELECT Id FROM Account LIMIT 1")
    assert sf.status_code == 200 and "Drift_Field__c" not in sf.json()["records"][0]
    assert api.ns_query("SELECT id FROM currency").status_code == 200
    with pytest.raises(ValueError):
        FaultConfig(only_vendor="quickbooks")


def test_fault_sequence_is_deterministic(api) -> None:
    def run() -> tuple[list[int], list[dict], bytes]:
        codes = statuses(lambda: api.hv_get("time_entries", per_page=40), 5)
        body = api.hv_get("time_entries", per_page=40, page=2).content
        return codes, list(api.server.faults.injected), body

    api.server.faults = FaultConfig(rate_limit_every=4, server_error_every=5, malformed_every=9)
    first = run()
    api.server.faults.reset()
    assert run() == first
    assert first[0] == [200, 200, 200, 429, 503]
    assert len(first[1]) == (3 * 40 + 40) // 9 and b"not-a-number" in first[2]


def test_faults_can_change_while_running(api) -> None:
    assert api.hv_get("clients").status_code == 200
    api.server.faults.rate_limit_every = 1
    assert api.hv_get("clients").status_code == 429
    api.server.faults.rate_limit_every = 0
    assert api.hv_get("clients").status_code == 200


def test_unauthenticated_requests_are_counted_but_not_faulted(api) -> None:
    api.server.faults = FaultConfig(rate_limit_every=1)
    resp = api.hv_get("clients", headers={})
    assert resp.status_code == 401
    assert api.server.counters["psa:clients"] == 1
    assert api.server.total_requests == 1


def test_refused_paths_answer_with_the_vendors_error_every_time(api) -> None:
    api.server.faults = FaultConfig(refused_paths={"/v2/expenses": 403})
    for _ in range(2):
        resp = api.hv_get("expenses")
        assert resp.status_code == 403
        assert resp.json()["status"] == 403
    assert api.hv_get("clients").status_code == 200
