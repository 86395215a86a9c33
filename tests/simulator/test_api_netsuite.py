"""NetSuite SuiteQL over REST: envelope, string values, limit/offset paging, SuiteQL, errors."""

from __future__ import annotations

import datetime as dt

import pytest

N_TRANSACTIONS = 240
N_TLINES = 2300
TRAN = range(1, N_TRANSACTIONS + 1)
BAD_REQUEST_TYPE = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"


def trandate(i: int) -> dt.date:
    return dt.date(2025, 1, 1) + dt.timedelta(days=i % 90)


def ids(items) -> list[int]:
    return [int(item["id"]) for item in items]


def test_envelope_and_wire_values(api) -> None:
    resp = api.ns_query("SELECT * FROM transaction WHERE id = 5")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.oracle.resource+json")
    body = resp.json()
    assert list(body) == ["links", "count", "hasMore", "offset", "totalResults", "items"]
    assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == (
        1,
        False,
        0,
        1,
    )
    href = f"{api.server.erp_base_url}/services/rest/query/v1/suiteql?limit=1000&offset=0"
    assert body["links"] == [
        {"rel": "first", "href": href},
        {"rel": "last", "href": href},
        {"rel": "self", "href": href},
    ]
    # Every value a string; NULL fields (memo, createdfrom, custbody_...) are omitted.
    assert body["items"] == [
        {
            "links": [],
            "id": "5",
            "tranid": "INV5",
            "type": "CustInvc",
            "trandate": "1/6/2025",
            "duedate": "2/6/2025",
            "postingperiod": "105",
            "entity": "6",
            "subsidiary": "2",
            "currency": "2",
            "exchangerate": "1.25",
            "foreigntotal": "50.5",
            "status": "Open",
            "createddate": "1/1/2024",
            "lastmodifieddate": "1/1/2024",
        }
    ]


def test_booleans_functions_and_aliases(api) -> None:
    body = api.ns_query(
        "SELECT tl.uniquekey, tl.mainline, tl.quantity AS Qty, tl.netamount "
        "FROM transactionline tl WHERE tl.mainline = 'T' AND tl.transaction = 3"
    ).json()
    assert body["items"] == [
        {"links": [], "uniquekey": "2", "mainline": "T", "qty": "2.5", "netamount": "375"}
    ]
    item = api.ns_query(
        "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lm, "
        "TO_CHAR(trandate, 'MM/DD/YYYY'), TO_CHAR(createddate, 'YYYY-MM-DD\"T\"HH24:MI') "
        "FROM transaction WHERE id = 61"
    ).json()["items"][0]
    assert item == {
        "links": [],
        "id": "61",
        "lm": "2024-01-03 13:00:01",
        "expr1": "03/03/2025",
        "expr2": "2024-01-03T13:00",
    }
    assert (
        api.ns_query("SELECT * FROM transactionline WHERE mainline = 'F'").json()["totalResults"]
        == N_TLINES - N_TRANSACTIONS
    )


def test_limit_and_offset_cover_every_row_exactly_once(api) -> None:
    pages, items = api.ns_all("SELECT uniquekey, transaction FROM transactionline")
    assert [p["count"] for p in pages] == [1000, 1000, 300]
    assert [int(i["uniquekey"]) for i in items] == list(range(N_TLINES))  # primary-key order
    assert [p["offset"] for p in pages] == [0, 1000, 2000]
    assert [p["hasMore"] for p in pages] == [True, True, False]


def test_order_by_across_small_pages(api) -> None:
    pages, items = api.ns_all(
        "SELECT id, trandate FROM transaction WHERE type = 'CustInvc' ORDER BY trandate DESC",
        limit=7,
    )
    expected = sorted((i for i in TRAN if i % 4), key=lambda i: (-trandate(i).toordinal(), i))
    assert ids(items) == expected
    assert len(pages) == -(-len(expected) // 7)
    last = next(x["href"] for x in pages[0]["links"] if x["rel"] == "last")
    assert last.endswith(f"limit=7&offset={(len(pages) - 1) * 7}")


def test_offset_need_not_be_a_multiple_of_limit(api) -> None:
    q = "SELECT id FROM transaction ORDER BY id"
    body = api.ns_query(q, limit=10, offset=5).json()
    assert ids(body["items"]) == list(range(6, 16))
    assert body["hasMore"] is True and body["totalResults"] == N_TRANSACTIONS
    assert api.ns_query(q, limit=10, offset=235).json()["hasMore"] is False
    assert ids(api.ns_query(q, limit=10, offset=235).json()["items"]) == list(range(236, 241))
    assert api.ns_query(q, limit=10, offset=500).json()["items"] == []


def test_composite_key_table_pages_exactly_once(api) -> None:
    _, items = api.ns_all("SELECT * FROM previoustransactionlinelink", limit=4)
    keys = [(i["previousdoc"], i["nextdoc"], i["nextline"]) for i in items]
    assert len(keys) == len(set(keys)) == 15


def test_incremental_lastmodifieddate_returns_exactly_the_changed_rows(fresh_api) -> None:
    api = fresh_api
    changed = [4, 99, 100, 240]
    api.firm.execute(
        "UPDATE ns_transaction "
        "SET lastmodifieddate = TIMESTAMP '2024-08-01 10:00:00' + to_seconds(id) "
        f"WHERE id IN ({', '.join(map(str, changed))})"
    )
    for cond in (
        "t.lastmodifieddate > TO_TIMESTAMP('2024-08-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')",
        "lastmodifieddate >= TO_DATE('2024-08-01', 'YYYY-MM-DD')",
        "lastmodifieddate >= '8/1/2024'",
    ):
        _, items = api.ns_all(f"SELECT t.id FROM transaction t WHERE {cond}", limit=3)
        assert ids(items) == changed
    _, items = api.ns_all(
        "SELECT id FROM transaction WHERE lastmodifieddate > "
        "TO_TIMESTAMP('2024-08-01 10:01:39', 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate"
    )
    assert ids(items) == [100, 240]


@pytest.mark.parametrize(
    "where, keep",
    [
        ("memo IS NULL", lambda i: i % 5 == 0),
        ("memo IS NOT NULL AND id < 12", lambda i: i % 5 and i < 12),
        (
            "type IN ('CustPymt', 'Other') AND NOT (postingperiod = 100)",
            lambda i: i % 4 == 0 and i % 12 != 0,
        ),
        ("id NOT IN (1, 2, 3) AND id <= 6", lambda i: 4 <= i <= 6),
        ("id BETWEEN 10 AND 13 OR id = 200", lambda i: 10 <= i <= 13 or i == 200),
        ("tranid LIKE 'INV1_'", lambda i: 10 <= i <= 19),
        (
            "(entity = 2 OR entity = 3) AND exchangerate <> 1",
            lambda i: i % 40 + 1 in (2, 3) and i % 2,
        ),
        ("transaction.foreigntotal >= 2000.5 AND currency != '1'", lambda i: i >= 200 and i % 2),
        ("trandate = TO_DATE('01/03/2025', 'MM/DD/YYYY')", lambda i: i % 90 == 2),
        ("custbody_sf_opportunity_id = '006A00000000010'", lambda i: i == 10),
    ],
)
def test_where_semantics(api, where, keep) -> None:
    _, items = api.ns_all(f"SELECT id FROM transaction WHERE {where}")
    assert ids(items) == [i for i in TRAN if keep(i)]


@pytest.mark.parametrize(
    "q",
    [
        "SELECT id FROM employee",
        "SELECT * FROM ns_transaction",
        "SELECT * FROM sim_ground_truth",
        "SELECT * FROM information_schema.tables",
        "DELETE FROM transaction",
        "UPDATE transaction SET memo = 'x'",
        "INSERT INTO currency (id) VALUES (9)",
        "DROP TABLE transaction",
        "SELECT id FROM currency; DELETE FROM currency",
        "SELECT t.id FROM transaction t JOIN transactionline l ON l.transaction = t.id",
        "SELECT t.id FROM transaction t, transactionline l",
        "SELECT id FROM transaction WHERE id IN (SELECT transaction FROM transactionline)",
        "SELECT id, nosuchfield FROM transaction",
        "SELECT x.id FROM transaction t",
        "SELECT BUILTIN.DF(entity) FROM transaction",
        "SELECT duckdb_tables() FROM transaction",
        "SELECT COUNT(*) FROM transaction",
        "SELECT DISTINCT type FROM transaction",
        "SELECT id FROM transaction GROUP BY id",
        "SELECT TO_CHAR(trandate, 'YYYY-Q') FROM transaction",
        "SELECT uniquekey FROM transactionline WHERE mainline = 'yes'",
        "SELECT id FROM transaction WHERE id = 'abc'",
        "SELECT id FROM transaction WHERE",
        "",
    ],
)
def test_rejected_queries(api, q) -> None:
    resp = api.ns_query(q)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["type"] == BAD_REQUEST_TYPE and body["title"] == "Bad Request"
    assert body["status"] == 400
    (detail,) = body["o:errorDetails"]
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert detail["detail"].startswith("Invalid search query. Detailed unprocessed description")


def test_request_level_errors(api) -> None:
    url = f"{api.server.erp_base_url}/services/rest/query/v1/suiteql"
    no_prefer = {"Authorization": api.ns_headers["Authorization"]}
    assert api.ns_query("SELECT id FROM currency", headers=no_prefer).status_code == 400
    for limit in (0, 1001, "abc"):
        assert api.ns_query("SELECT id FROM currency", limit=limit).status_code == 400
    assert api.ns_query("SELECT id FROM currency", offset=-1).status_code == 400
    resp = api.http.post(url, data=b"{not json", headers=api.ns_headers)
    assert resp.status_code == 400
    resp = api.http.get(url, headers=api.ns_headers)
    assert resp.status_code == 405 and resp.json()["status"] == 405
    resp = api.http.post(
        url + "/extra", json={"q": "SELECT id FROM currency"}, headers=api.ns_headers
    )
    assert resp.status_code == 404


@pytest.mark.parametrize("auth", [None, "Bearer wrong"])
def test_auth_is_required(api, auth) -> None:
    headers = {"Prefer": "transient", **({"Authorization": auth} if auth else {})}
    resp = api.ns_query("SELECT id FROM currency", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["status"] == 401 and body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert api.token not in resp.text


def test_same_request_gives_identical_bytes(api) -> None:
    q = "SELECT * FROM transactionline WHERE quantity > 3 ORDER BY netamount DESC, memo"
    first = api.ns_query(q, limit=50, offset=100)
    assert first.status_code == 200
    assert first.content == api.ns_query(q, limit=50, offset=100).content


def test_request_counters(api) -> None:
    api.ns_all("SELECT uniquekey FROM transactionline")
    api.ns_query("SELECT id FROM Transaction")
    api.ns_query("DELETE FROM transaction")
    api.ns_query("SELECT id FROM employee")
    assert dict(api.server.counters) == {
        "erp:suiteql:transactionline": 3,
        "erp:suiteql:transaction": 2,
        "erp:suiteql:?": 1,
    }
