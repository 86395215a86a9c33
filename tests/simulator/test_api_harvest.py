"""Harvest API v2: envelope, nested objects, numbered pages, filters, report and errors."""

from __future__ import annotations

import datetime as dt
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
import requests

from simulator.api.keyset import OrderKey, Pager, Source

N_TIME = 530
N_EXPENSES = 90
N_PROJECTS = 24
N_CLIENTS = 12
BASE = dt.date(2024, 1, 1)


def spent(i: int) -> dt.date:
    return BASE + dt.timedelta(days=i % 60)


def time_order(ids) -> list[int]:
    """Harvest's order for time entries and expenses: spent_date desc, then id desc."""
    return sorted(ids, key=lambda i: (spent(i), i), reverse=True)


def project_of(i: int) -> int:
    return i % N_PROJECTS + 1


def client_of_project(p: int) -> int:
    return p % N_CLIENTS + 1


def test_time_entry_wire_format(api) -> None:
    _, entries = api.hv_all("time_entries")
    by_id = {e["id"]: e for e in entries}
    assert by_id[3] == {
        "id": 3,
        "spent_date": "2024-01-04",
        "hours": 3.5,
        "rounded_hours": 3.5,
        "notes": "Work 3",
        "is_locked": True,
        "locked_reason": None,
        "is_closed": False,
        "is_billed": True,
        "is_running": False,
        "billable": True,
        "budgeted": True,
        "billable_rate": 100,
        "cost_rate": 80,
        "user": {"id": 4, "name": "First4 Last4"},
        "client": {"id": 5, "name": "Client 5", "currency": "USD"},
        "project": {"id": 4, "name": "Project 4", "code": "P4"},
        "task": {"id": 4, "name": "Task 4"},
        "invoice": {"id": 9000, "number": "INV-9000"},
        "created_at": "2024-01-01T00:21:00Z",
        "updated_at": "2024-01-01T00:21:00Z",
    }
    assert list(by_id[3]) == list(by_id[4])  # key order is the schema's, nested in place
    assert by_id[4]["invoice"] is None  # a NULL nested id makes the whole object null


def test_other_resources_wire_format(api) -> None:
    users = api.hv_get("users").json()["users"]
    assert [u["id"] for u in users] == list(range(8, 0, -1))  # created_at desc
    user2 = next(u for u in users if u["id"] == 2)
    assert user2["roles"] == ["Consultant", "Lead"]
    assert user2["default_hourly_rate"] == 175 and user2["cost_rate"] == 80.5
    resp = api.hv_get("projects", per_page=1)
    project = resp.json()["projects"][0]
    assert project["id"] == 24
    assert project["client"] == {"id": 1, "name": "Client 1", "currency": "EUR"}
    assert "client_id" not in project and project["ends_on"] is None
    assert project["starts_on"] == "2024-01-01" and project["budget"] == 1000


def test_numbered_pages_cover_every_row_exactly_once(api) -> None:
    pages, entries = api.hv_all("time_entries", per_page=37)
    ids = [e["id"] for e in entries]
    assert ids == time_order(range(1, N_TIME + 1))
    assert len(pages) == math.ceil(N_TIME / 37)
    for n, page in enumerate(pages, start=1):
        assert page["page"] == n and page["per_page"] == 37
        assert page["total_entries"] == N_TIME and page["total_pages"] == len(pages)
        assert page["previous_page"] == (n - 1 if n > 1 else None)
        assert page["next_page"] == (n + 1 if n < len(pages) else None)
    base = f"{api.server.psa_base_url}/v2/time_entries"
    assert pages[1]["links"] == {
        "first": f"{base}?page=1&per_page=37",
        "next": f"{base}?page=3&per_page=37",
        "previous": f"{base}?page=1&per_page=37",
        "last": f"{base}?page=15&per_page=37",
    }


def test_default_page_size_and_pages_past_the_end(api) -> None:
    body = api.hv_get("time_entries").json()
    assert body["per_page"] == 2000 and len(body["time_entries"]) == N_TIME
    assert body["total_pages"] == 1 and body["next_page"] is None
    body = api.hv_get("time_entries", page=99, per_page=100).json()
    assert body["time_entries"] == [] and body["next_page"] is None
    assert body["previous_page"] == 98 and body["total_pages"] == 6


def test_links_keep_the_query_parameters(api) -> None:
    body = api.hv_get("time_entries", is_billed="false", per_page=10, page=2).json()
    base = f"{api.server.psa_base_url}/v2/time_entries"
    assert body["links"]["next"] == f"{base}?page=3&per_page=10&is_billed=false"
    assert all(e["is_billed"] is False for e in body["time_entries"])


@pytest.mark.parametrize(
    "params, keep",
    [
        ({"is_billed": "true"}, lambda i: i % 3 == 0),
        ({"user_id": 3}, lambda i: i % 8 + 1 == 3),
        ({"project_id": 5}, lambda i: project_of(i) == 5),
        ({"client_id": 2}, lambda i: client_of_project(project_of(i)) == 2),
        ({"from": "2024-01-10", "to": "2024-01-12"}, lambda i: 9 <= i % 60 <= 11),
        ({"from": "2024-02-25", "is_billed": "false"}, lambda i: i % 60 >= 55 and i % 3 != 0),
    ],
)
def test_time_entry_filters(api, params, keep) -> None:
    _, entries = api.hv_all("time_entries", per_page=100, **params)
    assert [e["id"] for e in entries] == time_order(i for i in range(1, N_TIME + 1) if keep(i))


def test_filters_on_other_resources(api) -> None:
    _, clients = api.hv_all("clients", is_active="false")
    assert [c["id"] for c in clients] == [10, 5]
    _, expenses = api.hv_all("expenses", is_billed="true", project_id=4)
    expected = [i for i in range(1, N_EXPENSES + 1) if i % 4 == 0 and project_of(i) == 4]
    assert [e["id"] for e in expenses] == time_order(expected)
    _, projects = api.hv_all("projects", client_id=3)
    assert [p["id"] for p in projects] == [p for p in range(N_PROJECTS, 0, -1) if p % 12 == 2]


def test_updated_since_returns_exactly_the_changed_rows(fresh_api) -> None:
    api = fresh_api
    changed = [17, 250, 251, 529]
    api.firm.execute(
        "UPDATE hv_time_entries SET updated_at = TIMESTAMP '2024-07-01 09:00:00' "
        f"WHERE id IN ({', '.join(map(str, changed))})"
    )
    for since in ("2024-07-01T09:00:00Z", "2024-07-01T11:00:00+02:00", "2024-06-30T00:00:00Z"):
        _, entries = api.hv_all("time_entries", updated_since=since)
        assert sorted(e["id"] for e in entries) == changed
    _, entries = api.hv_all("time_entries", updated_since="2024-07-01T09:00:01Z")
    assert entries == []


def test_rows_inserted_mid_traversal_do_not_duplicate_or_drop_rows(fresh_api) -> None:
    api = fresh_api
    first = api.hv_get("time_entries", per_page=50).json()
    # New rows at the head, in the middle and at the tail of the order while paging.
    api.firm.execute(
        "INSERT INTO hv_time_entries (id, spent_date, hours, created_at, updated_at) VALUES "
        "(10001, DATE '2030-01-01', 1, now(), now()), (10002, DATE '2024-01-30', 1, now(), now()), "
        "(10003, DATE '2023-01-01', 1, now(), now())"
    )
    seen = [e["id"] for e in first["time_entries"]]
    url = first["links"]["next"]
    while url:
        page = api.http.get(url, headers=api.hv_headers).json()
        seen.extend(e["id"] for e in page["time_entries"])
        url = page["links"]["next"]
    original = [i for i in seen if i <= N_TIME]
    assert sorted(original) == list(range(1, N_TIME + 1))  # each original row exactly once
    assert len(seen) == len(set(seen))
    assert 10001 not in seen  # sorts before page 1, which was already served
    assert {10002, 10003} <= set(seen)


def expected_uninvoiced(start: dt.date, end: dt.date) -> dict[int, dict]:
    """The uninvoiced report computed from the fixture's closed-form rows."""
    out: dict[int, dict] = {}

    def row(p: int) -> dict:
        c = client_of_project(p)
        return out.setdefault(
            p,
            {
                "client_id": c,
                "client_name": f"Client {c}",
                "project_id": p,
                "project_name": f"Project {p}",
                "currency": "USD" if c % 2 == 0 else "EUR",
                "total_hours": Decimal(0),
                "uninvoiced_hours": Decimal(0),
                "uninvoiced_expenses": Decimal(0),
                "time_amount": Decimal(0),
            },
        )

    for i in range(1, N_TIME + 1):
        p = project_of(i)
        if p % 6 == 0 or i % 5 == 0 or not start <= spent(i) <= end:
            continue
        hours = Decimal(i % 8) + Decimal("0.5")
        r = row(p)
        r["total_hours"] += hours
        if i % 3 != 0:
            r["uninvoiced_hours"] += hours
            r["time_amount"] += hours * (100 + i % 3 * 25)
    for i in range(1, N_EXPENSES + 1):
        p = project_of(i)
        if p % 6 == 0 or i % 3 == 0 or not start <= spent(i) <= end:
            continue
        r = row(p)
        if i % 4 != 0:
            r["uninvoiced_expenses"] += Decimal(20 + i % 7) + Decimal("0.25")
    for r in out.values():
        amount = r.pop("time_amount").quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        r["uninvoiced_amount"] = amount + r["uninvoiced_expenses"]
    return out


@pytest.mark.parametrize("start, end", [("20240101", "20240131"), ("2024-01-15", "2024-02-20")])
def test_uninvoiced_report_sums(api, start, end) -> None:
    resp = api.hv_get("reports/uninvoiced", **{"from": start, "to": end})
    assert resp.status_code == 200
    body = resp.json(parse_float=Decimal, parse_int=Decimal)
    expected = expected_uninvoiced(
        dt.date.fromisoformat(start)
        if "-" in start
        else dt.datetime.strptime(start, "%Y%m%d").date(),
        dt.date.fromisoformat(end) if "-" in end else dt.datetime.strptime(end, "%Y%m%d").date(),
    )
    got = {int(r["project_id"]): r for r in body["results"]}
    assert set(got) == set(expected)
    for p, exp in expected.items():
        assert {k: (v if isinstance(v, str) else Decimal(v)) for k, v in got[p].items()} == exp
    assert body["total_entries"] == len(expected) and body["per_page"] == 1000
    names = [(r["client_name"], r["project_name"]) for r in body["results"]]
    assert names == sorted(names)


def test_uninvoiced_report_requires_a_range(api) -> None:
    for params in ({}, {"from": "20240101"}, {"from": "2024-01-01", "to": "soon"}):
        resp = api.hv_get("reports/uninvoiced", **params)
        assert resp.status_code == 422 and "message" in resp.json()


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": 0},
        {"per_page": 2001},
        {"page": 0},
        {"page": "two"},
        {"is_billed": "maybe"},
        {"updated_since": "yesterday"},
        {"from": "2024-13-01"},
    ],
)
def test_bad_parameters_are_422(api, params) -> None:
    resp = api.hv_get("time_entries", **params)
    assert resp.status_code == 422
    assert "message" in resp.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope", "Harvest-Account-Id": "424242"},
        {"Authorization": "Bearer test-token-7f3a"},
        {"Authorization": "Bearer test-token-7f3a", "Harvest-Account-Id": "1"},
    ],
)
def test_auth_is_required(api, headers) -> None:
    resp = api.hv_get("clients", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token" and "error_description" in resp.json()
    assert api.token not in resp.text


def test_unknown_paths_are_404(api) -> None:
    for path in ("invoices", "time_entries/extra", "reports/unknown"):
        resp = api.hv_get(path)
        assert resp.status_code == 404 and resp.json()["status"] == 404


def test_same_request_gives_identical_bytes(api) -> None:
    params = {"per_page": 25, "page": 7, "is_billed": "false"}
    assert (
        api.hv_get("time_entries", **params).content == api.hv_get("time_entries", **params).content
    )


def test_unexpected_failure_is_a_vendor_format_500(fresh_api) -> None:
    fresh_api.firm.execute("DROP TABLE hv_tasks")
    resp = fresh_api.hv_get("tasks")
    assert resp.status_code == 500
    assert resp.json() == {"status": 500, "error": "Internal Server Error"}


def test_request_counters(api) -> None:
    api.hv_all("time_entries", per_page=200)
    api.hv_get("clients")
    api.hv_get("reports/uninvoiced", **{"from": "20240101", "to": "20240102"})
    api.hv_get("nope")
    assert dict(api.server.counters) == {
        "psa:time_entries": 3,
        "psa:clients": 1,
        "psa:reports:uninvoiced": 1,
        "psa:other": 1,
    }
    assert api.server.total_requests == 6
    api.server.reset_counters()
    assert api.server.total_requests == 0 and not api.server.counters


def test_concurrent_requests_while_the_firm_is_being_written(fresh_api) -> None:
    """Each request thread uses its own cursor, so serving and writing can overlap."""
    api = fresh_api
    stop = threading.Event()
    writes = 0

    def writer() -> None:
        nonlocal writes
        while not stop.is_set():
            api.firm.execute("UPDATE hv_clients SET updated_at = now()")
            api.firm.execute(
                "INSERT INTO sf_account (Id, IsDeleted) VALUES (?, FALSE)", [f"001Z{writes:011d}"]
            )
            writes += 1

    def reader(resource: str) -> list[int]:
        with requests.Session() as http:
            ids: list[int] = []
            url = f"{api.server.psa_base_url}/v2/{resource}?per_page=50"
            while url:
                resp = http.get(url, headers=api.hv_headers)
                assert resp.status_code == 200, resp.text
                ids.extend(r["id"] for r in resp.json()[resource])
                url = resp.json()["links"]["next"]
            return ids

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(
                pool.map(reader, ["time_entries", "expenses", "time_entries", "clients"])
            )
    finally:
        stop.set()
        thread.join()
    assert writes > 0
    assert sorted(results[0]) == sorted(results[2]) == list(range(1, N_TIME + 1))
    assert sorted(results[1]) == list(range(1, N_EXPENSES + 1))
    assert sorted(results[3]) == list(range(1, N_CLIENTS + 1))


@pytest.mark.parametrize("max_anchors", [1, 3, 4096])
@pytest.mark.parametrize("phase", [0, 5])
def test_pager_strided_anchors_cover_every_row_once(api, max_anchors, phase) -> None:
    """Past ``max_anchors`` pages the pager keeps every n-th anchor only; same results."""
    src = Source(
        "hv_time_entries",
        '"billable"',
        (),
        (OrderKey('"spent_date"', True, True), OrderKey('"id"', True, True)),
    )
    pager = Pager(max_anchors=max_anchors)
    cur = api.firm.cursor()
    expected = time_order(i for i in range(1, N_TIME + 1) if i % 5)[phase:]
    seen: list[int] = []
    index = 0
    while True:
        page = pager.fetch(cur, src, '"id"', 9, index, phase=phase, with_previous=True)
        if not page.rows:
            break
        assert page.total == len(expected) + phase
        if index:
            assert page.previous_row == (seen[-1],)
        seen.extend(r[0] for r in page.rows)
        index += 1
    assert seen == expected
    assert index == page.page_count == -(-len(expected) // 9)
