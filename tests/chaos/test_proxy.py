"""The chaos proxy and the warehouse fingerprint, on their own: real sockets, the real
simulator, q2c's own HTTP client, real DuckDB files.

The fault suite (`make chaos`) trusts both: a fault the client never saw would make a
profile pass for nothing, and a fingerprint blind to a changed row would make every run
equal. So each fault kind is observed here as a client sees it, and the fingerprint is shown
to be equal for equal content and different for a changed row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import requests

from pipelines.defs.ingest.psa import source as psa
from pipelines.lib.extract import INITIAL_CURSOR, ExtractStats, make_client
from simulator.api.server import SimulatorServer
from simulator.chaos.fingerprint import differences, fingerprint
from simulator.chaos.proxy import FAULT_KINDS, ChaosProxy, Profile
from simulator.chaos.records import RecordRewriter
from tests.simulator.firm_fixtures import cached_firm

TOKEN = "chaos-test-token"
ACCOUNT = "100001"
HARVEST = {"Authorization": f"Bearer {TOKEN}", "Harvest-Account-Id": ACCOUNT}
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SOQL = "SELECT Id, Name FROM Account ORDER BY Id LIMIT 5"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    """A small generated firm served by the simulator (a cursor of its own: tests only read)."""
    server = SimulatorServer(cached_firm().cursor(), token=TOKEN, harvest_account_id=ACCOUNT)
    with server.start():
        yield server


def always(kind: str, **options: float) -> Profile:
    """Every request faulted once with ``kind``, answered on its second attempt."""
    return Profile(kind, {kind: 1.0}, max_in_a_row=1, **options)


def crm(proxy: ChaosProxy, timeout: float = 10) -> requests.Response:
    return requests.get(
        f"{proxy.url}/crm/services/data/v62.0/query",
        params={"q": SOQL},
        headers=BEARER,
        timeout=timeout,
    )


def harvest(proxy: ChaosProxy, resource: str = "tasks", timeout: float = 10) -> requests.Response:
    return requests.get(f"{proxy.url}/psa/v2/{resource}", headers=HARVEST, timeout=timeout)


def netsuite(proxy: ChaosProxy) -> requests.Response:
    return requests.post(
        f"{proxy.url}/erp/services/rest/query/v1/suiteql",
        params={"limit": 5},
        json={"q": "SELECT id, symbol FROM currency"},
        headers={**BEARER, "Prefer": "transient"},
        timeout=10,
    )


def test_rate_limits_in_each_vendors_shape_with_retry_after(simulator) -> None:
    with ChaosProxy(simulator.url, always("rate_limit", retry_after_seconds=3)) as proxy:
        limited = crm(proxy)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        assert limited.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert limited.json()[0]["message"]
        assert crm(proxy).status_code == 200  # the same request, its second attempt

        limited = harvest(proxy)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        assert set(limited.json()) == {"message"}

        limited = netsuite(proxy)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        body = limited.json()
        assert {"type", "title", "status", "o:errorDetails"} <= set(body)
        assert {"detail", "o:errorCode"} <= set(body["o:errorDetails"][0])
        assert netsuite(proxy).status_code == 200
        assert proxy.wait_idle()  # the answers counted
        assert proxy.log.injected["rate_limit"] == 3
        assert proxy.log.survived["rate_limit"] == 2  # Harvest's request was not sent again


def test_500_and_502_are_html_pages_503_says_when_to_retry(simulator) -> None:
    for kind, status in (("http_500", 500), ("http_502", 502)):
        with ChaosProxy(simulator.url, always(kind)) as proxy:
            page = harvest(proxy)
            assert page.status_code == status
            assert page.headers["Content-Type"].startswith("text/html")
            assert page.text.startswith("<html>") and str(status) in page.text
            assert harvest(proxy).status_code == 200
    with ChaosProxy(simulator.url, always("http_503", retry_after_seconds=2)) as proxy:
        unavailable = crm(proxy)
        assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "2"
        assert unavailable.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_connections_dropped_mid_body_with_fin_and_with_rst(simulator) -> None:
    with ChaosProxy(simulator.url, always("drop_fin")) as proxy:
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as dropped:
            harvest(proxy)
        assert "IncompleteRead" in str(dropped.value)  # the headers and part of the body came
        assert harvest(proxy).status_code == 200
    with ChaosProxy(simulator.url, always("drop_rst")) as proxy:
        with pytest.raises(requests.exceptions.RequestException) as reset:
            harvest(proxy)
        assert "Connection reset by peer" in str(reset.value)
        assert harvest(proxy).status_code == 200
        assert proxy.wait_idle()
        assert proxy.log.injected["drop_rst"] == proxy.log.survived["drop_rst"] == 1


def test_a_stall_outlasts_a_short_read_timeout_and_the_proxy_sees_the_client_give_up(
    simulator,
) -> None:
    with ChaosProxy(simulator.url, always("stall", stall_seconds=4)) as proxy:
        with pytest.raises(requests.exceptions.ReadTimeout):
            harvest(proxy, timeout=1)
        assert harvest(proxy, timeout=5).status_code == 200
        assert proxy.wait_idle()
        [gave_up] = proxy.log.stalls_given_up
        assert 0.9 <= gave_up < 2.5 and proxy.log.stalls_waited == 0
    with ChaosProxy(simulator.url, always("stall", stall_seconds=0.5)) as proxy:
        assert harvest(proxy, timeout=5).status_code == 200  # a patient client waits it out
        assert proxy.wait_idle()
        assert proxy.log.stalls_waited == 1


def test_links_in_answers_lead_back_through_the_proxy(simulator) -> None:
    with ChaosProxy(simulator.url) as proxy:
        links = harvest(proxy).json()["links"]
        assert links["first"].startswith(f"{proxy.url}/psa/")
        assert simulator.url not in json.dumps(links)


def test_q2c_client_gets_every_page_through_every_fault_and_counts_each(simulator) -> None:
    """q2c's own retrying client, through all kinds at once: the same records as straight from
    the simulator, every fault survived, and each one counted by the client as a retry."""

    def records(url: str, stats: ExtractStats) -> list[dict]:
        client = make_client("psa", f"{url}/psa", psa.headers(TOKEN, ACCOUNT), stats)
        found = []
        for name in ("clients", "tasks", "users", "projects"):
            for page in client.pages(psa.list_endpoint(name, INITIAL_CURSOR), name):
                found += list(page)
        return found

    straight = records(simulator.url, ExtractStats())
    rates = {kind: 0.6 / len(FAULT_KINDS) for kind in FAULT_KINDS}
    profile = Profile("mixed", rates, seed=3, retry_after_seconds=0, stall_seconds=3)
    injected = []
    for _ in range(2):  # the same seed faults the same requests
        stats = ExtractStats()
        # dlt's request timeout is the client's read timeout; the stall outlasts it.
        with ChaosProxy(simulator.url, profile) as proxy, pytest.MonkeyPatch.context() as env:
            env.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
            assert records(proxy.url, stats) == straight
        log = proxy.log
        assert log.total_injected > 0
        assert log.total_survived == log.total_injected
        assert stats.retried_responses == log.faults["harvest"] == log.total_injected
        assert stats.requests == log.requests["harvest"]
        injected.append(dict(log.injected))
    assert injected[0] == injected[1]


def test_malformed_records_are_written_into_the_answer_and_the_manifest(
    simulator, tmp_path: Path
) -> None:
    rewriter = RecordRewriter(seed=42)
    with ChaosProxy(simulator.url, rewriter=rewriter) as proxy:
        first = harvest(proxy, "time_entries").content
        assert harvest(proxy, "time_entries").content == first  # the same records, again
    page = json.loads(first, parse_float=Decimal)["time_entries"]
    kinds = {entry.kind: entry for entry in rewriter.manifest}
    assert set(kinds) == {"negative_hours", "hours_as_word", "duplicate_id"}

    def sent(kind: str) -> list[dict]:
        return [r for r in page if str(r["id"]) == kinds[kind].id]

    [negative] = sent("negative_hours")
    assert negative["hours"] < 0
    [word] = sent("hours_as_word")
    assert word["hours"] == "eight"
    original, changed = sent("duplicate_id")
    assert original["notes"] != changed["notes"]
    assert kinds["duplicate_id"].records == [original, changed]

    rewriter.write_manifest(tmp_path / "manifest.json")
    written = json.loads((tmp_path / "manifest.json").read_text())
    assert {(e["vendor"], e["object"], e["kind"]) for e in written} == {
        ("harvest", "time_entries", kind) for kind in kinds
    }
    assert all(e["id"] for e in written)


def _warehouse(path: Path, rows: list[tuple], load_id: str) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema raw_psa")
    con.execute("create schema canonical")
    con.execute(
        "create table raw_psa.time_entries (id bigint, hours decimal(10, 2), _dlt_load_id varchar)"
    )
    con.executemany(
        "insert into raw_psa.time_entries values (?, ?, ?)", [(*r, load_id) for r in rows]
    )
    con.execute(
        "create table canonical.time_entries as select id, hours * 2 as amount "
        "from raw_psa.time_entries"
    )
    con.execute("create schema reconciliation")
    con.execute(
        "create table reconciliation.kpi_sync_latency as "
        "select 'psa' as source_system, now() as last_loaded_at"
    )
    con.close()
    return path


def test_fingerprint_is_equal_for_equal_content_and_names_the_table_a_row_changed(
    tmp_path: Path,
) -> None:
    rows = [(1, Decimal("7.50")), (2, Decimal("8.00")), (3, Decimal("1.25"))]
    one = fingerprint(_warehouse(tmp_path / "one.duckdb", rows, "1700000000.1"))
    # Other load ids and load times, the rows in another order: the same content.
    other = fingerprint(_warehouse(tmp_path / "two.duckdb", rows[::-1], "1800000000.2"))
    assert set(one) == {
        "raw_psa.time_entries",
        "canonical.time_entries",
        "reconciliation.kpi_sync_latency",
    }
    assert differences(one, other) == []

    changed = [(1, Decimal("7.50")), (2, Decimal("8.01")), (3, Decimal("1.25"))]
    found = fingerprint(_warehouse(tmp_path / "three.duckdb", changed, "1"))
    assert differences(one, found) == [
        "canonical.time_entries differs (same count)",
        "raw_psa.time_entries differs (same count)",
    ]
    twice = fingerprint(_warehouse(tmp_path / "four.duckdb", [*rows, rows[0]], "1"))
    assert "raw_psa.time_entries differs (3 -> 4 rows)" in differences(one, twice)
