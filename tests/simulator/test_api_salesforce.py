"""Salesforce REST query API: envelope, wire values, locators, SOQL semantics and errors."""

from __future__ import annotations

import re

import pytest

N_ACCOUNTS = 450
LIVE_ACCOUNTS = [i for i in range(1, N_ACCOUNTS + 1) if i % 9 != 0]  # i % 9 == 0 is deleted


def account_id(i: int) -> str:
    return f"001A{i:011d}"


def test_envelope_and_wire_values(api) -> None:
    resp = api.sf_query(
        "SELECT Id, Name, Amount, CloseDate, IsWon, SystemModstamp, ContractId "
        "FROM Opportunity WHERE Id = '006A00000000004'"
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["totalSize"] == 1 and body["done"] is True and "nextRecordsUrl" not in body
    (record,) = body["records"]
    assert list(record) == [
        "attributes", "Id", "Name", "Amount", "CloseDate", "IsWon", "SystemModstamp", "ContractId"
    ]  # fmt: skip
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": "/services/data/v62.0/sobjects/Opportunity/006A00000000004",
    }
    assert record["CloseDate"] == "2024-03-05"
    assert record["IsWon"] is True
    assert record["SystemModstamp"] == "2024-01-01T04:00:00.000+0000"
    assert record["ContractId"] == "800A00000000004"
    # Decimals are exact JSON numbers: 400.50 is written 400.5, never 400.50000000001.
    assert '"Amount":400.5,' in resp.text


def test_milliseconds_and_null_values(api) -> None:
    body = api.sf_query(
        "SELECT Name, SystemModstamp, ContractId FROM Opportunity WHERE Id = '006A00000000005'"
    ).json()
    assert body["records"][0]["ContractId"] is None
    body = api.sf_query("SELECT SystemModstamp FROM Account WHERE Id = '001A00000000123'").json()
    assert body["records"][0]["SystemModstamp"] == "2024-01-06T03:04:00.123+0000"


@pytest.mark.parametrize("batch_header, page_size", [(None, 2000), ("batchSize=200", 200)])
def test_locators_cover_every_row_exactly_once(api, batch_header, page_size) -> None:
    headers = {"Sforce-Query-Options": batch_header} if batch_header else None
    pages, records = api.sf_all("SELECT Id, Name FROM Account", headers=headers)
    ids = [r["Id"] for r in records]
    assert len(ids) == len(set(ids)) == len(LIVE_ACCOUNTS)
    assert set(ids) == {account_id(i) for i in LIVE_ACCOUNTS}
    assert ids == sorted(ids)  # no ORDER BY: Id order, so paging is deterministic
    assert all(p["totalSize"] == len(LIVE_ACCOUNTS) for p in pages)
    assert [len(p["records"]) for p in pages[:-1]] == [page_size] * (len(pages) - 1)
    for page in pages[:-1]:
        served = sum(len(p["records"]) for p in pages[: pages.index(page) + 1])
        assert re.fullmatch(
            r"/services/data/v62\.0/query/[A-Za-z0-9_-]+-\d+", page["nextRecordsUrl"]
        )
        assert page["nextRecordsUrl"].endswith(f"-{served}")


def test_batch_size_is_clamped_to_the_salesforce_minimum(api) -> None:
    pages, _ = api.sf_all("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=5"})
    assert [len(p["records"]) for p in pages] == [200, 200]


def test_order_by_with_nulls_and_limit_across_pages(api) -> None:
    soql = "SELECT Id, Name FROM Account ORDER BY Name DESC NULLS LAST, Id LIMIT 330"
    pages, records = api.sf_all(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    expected = [
        r[0]
        for r in api.firm.execute(
            "SELECT Id FROM sf_account WHERE NOT IsDeleted "
            "ORDER BY lower(Name) DESC NULLS LAST, Id LIMIT 330"
        ).fetchall()
    ]
    assert [r["Id"] for r in records] == expected
    assert [len(p["records"]) for p in pages] == [200, 130]
    assert pages[0]["totalSize"] == 330
    # Default SOQL null ordering is NULLS FIRST, whatever the direction.
    _, first = api.sf_all("SELECT Id, Name FROM Account ORDER BY Name DESC LIMIT 3")
    assert [r["Name"] for r in first] == [None, None, None]


def test_incremental_systemmodstamp_returns_exactly_the_changed_rows(fresh_api) -> None:
    api = fresh_api
    changed = [12, 200, 201, 334, 449]  # all live (i % 9 != 0)
    api.firm.execute(
        "UPDATE sf_account "
        "SET SystemModstamp = TIMESTAMP '2024-06-01 12:00:00' + to_seconds(Id[5:]::INT) "
        f"WHERE Id IN ({', '.join(repr(account_id(i)) for i in changed)})"
    )
    for literal in (
        "2024-05-31T23:59:59Z",
        "2024-06-01T00:00:00.000+0000",
        "2024-06-01T02:00:00+02:00",
    ):
        _, records = api.sf_all(
            f"SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > {literal} "
            "ORDER BY SystemModstamp, Id"
        )
        assert [r["Id"] for r in records] == [account_id(i) for i in changed]


def test_query_excludes_and_query_all_includes_deleted_rows(api) -> None:
    _, live = api.sf_all("SELECT Id, IsDeleted FROM Account")
    pages, every = api.sf_all(
        "SELECT Id, IsDeleted FROM Account", "queryAll", {"Sforce-Query-Options": "batchSize=200"}
    )
    assert len(live) == len(LIVE_ACCOUNTS) and not any(r["IsDeleted"] for r in live)
    assert len(every) == N_ACCOUNTS == pages[0]["totalSize"] and len(pages) == 3
    assert {r["Id"] for r in every if r["IsDeleted"]} == {
        account_id(i) for i in range(9, N_ACCOUNTS + 1, 9)
    }
    _, deleted_only = api.sf_all("SELECT Id FROM Account WHERE IsDeleted = true", "queryAll")
    assert len(deleted_only) == N_ACCOUNTS // 9


@pytest.mark.parametrize(
    "where, expected",
    [
        ("Name = null", [i for i in LIVE_ACCOUNTS if i % 50 == 7]),
        (
            "Name != null AND Id <= '001A00000000010'",
            [i for i in LIVE_ACCOUNTS if i <= 10 and i % 50 != 7],
        ),
        ("Name = 'ACCOUNT 5'", [5]),  # SOQL string comparison is case-insensitive
        ("Name LIKE 'account 1_'", [i for i in LIVE_ACCOUNTS if 10 <= i <= 19]),
        (
            "BillingCountry IN ('US', 'GB') AND CurrencyIsoCode != 'USD'",
            [i for i in LIVE_ACCOUNTS if i % 3 == 1],
        ),
        (
            "(ParentId = '001A00000000001' OR ParentId = null) AND NOT Id > '001A00000000100'",
            [i for i in LIVE_ACCOUNTS if i <= 100 and (i <= 10 or i % 10 == 0)],
        ),
        (  # SOQL != and NOT IN also match nulls
            "ParentId != '001A00000000001' AND ParentId NOT IN ('001A00000000002')",
            [i for i in LIVE_ACCOUNTS if i <= 10 or i % 10 not in (0, 1)],
        ),
        (
            "CreatedDate >= 2024-01-02T00:00:00Z AND CreatedDate < 2024-01-03T00:00:00.000+0000",
            [i for i in LIVE_ACCOUNTS if 24 <= i < 48],
        ),
    ],
)
def test_where_semantics(api, where, expected) -> None:
    _, records = api.sf_all(f"SELECT Id FROM Account WHERE {where}")
    assert [r["Id"] for r in records] == [account_id(i) for i in expected]


def test_date_number_and_boolean_literals(api) -> None:
    _, records = api.sf_all(
        "SELECT Id, Amount FROM Opportunity "
        "WHERE CloseDate > 2024-03-10 AND Amount <= 1500.5 AND IsWon = false"
    )
    assert [r["Id"] for r in records] == [f"006A{i:011d}" for i in (11, 12, 14, 15)]


@pytest.mark.parametrize(
    "soql, code, fragment",
    [
        (
            "SELECT Id, Foo FROM Account",
            "INVALID_FIELD",
            "No such column 'Foo' on entity 'Account'",
        ),
        ("SELECT Id FROM Account WHERE Bar = 1", "INVALID_FIELD", "No such column 'Bar'"),
        ("SELECT Id FROM Account ORDER BY Baz", "INVALID_FIELD", "No such column 'Baz'"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported"),
        ("SELECT Id, Account.Name FROM Opportunity", "MALFORMED_QUERY", "relationship"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "MALFORMED_QUERY", "subqueries"),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
            "MALFORMED_QUERY",
            "subqueries",
        ),
        ("SELECT COUNT(Id) FROM Account", "MALFORMED_QUERY", "functions"),
        ("SELECT Id FROM Account, Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected end"),
        ("SELEC Id FROM Account", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Account WHERE Name = 'x' ;", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id, Id FROM Account", "MALFORMED_QUERY", "duplicate field"),
        (
            "SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type dateTime",
        ),
    ],
)
def test_soql_errors(api, soql, code, fragment) -> None:
    resp = api.sf_query(soql)
    assert resp.status_code == 400
    (error,) = resp.json()
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_missing_query_and_bad_locator(api) -> None:
    resp = api.http.get(
        f"{api.server.crm_base_url}/services/data/v62.0/query", headers=api.sf_headers
    )
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "MALFORMED_QUERY"
    resp = api.sf_next("/services/data/v62.0/query/not-a-locator-2000")
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    resp = api.sf_next("/services/data/v62.0/sobjects/Account")
    assert resp.status_code == 404 and resp.json()[0]["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic dGVzdA=="])
def test_auth_is_required(api, auth) -> None:
    headers = {"Authorization": auth} if auth else {}
    resp = api.http.get(
        f"{api.server.crm_base_url}/services/data/v62.0/query",
        params={"q": "SELECT Id FROM Account"},
        headers=headers,
    )
    assert resp.status_code == 401
    assert resp.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert api.token not in resp.text


def test_same_request_gives_identical_bytes(api) -> None:
    headers = {"Sforce-Query-Options": "batchSize=200"}
    soql = "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp DESC"
    first, again = api.sf_query(soql, headers=headers), api.sf_query(soql, headers=headers)
    assert first.content == again.content
    next_url = first.json()["nextRecordsUrl"]
    assert api.sf_next(next_url, headers).content == api.sf_next(next_url, headers).content


def test_request_counters(api) -> None:
    api.sf_all("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    api.sf_all("SELECT Id FROM opportunity", "queryAll")
    api.sf_query("SELECT Id FROM Nope")
    assert api.server.counters["crm:query:Account"] == 2
    assert api.server.counters["crm:queryAll:Opportunity"] == 1
    assert api.server.counters["crm:query:?"] == 1
    assert api.server.total_requests == 4


def test_decimals_are_exact_on_the_wire(fresh_api) -> None:
    api = fresh_api
    # Beyond float precision (falls back to the exact encoder) and plain small values.
    api.firm.execute(
        "UPDATE sf_opportunity SET Amount = CASE Id "
        "WHEN '006A00000000001' THEN 9999999999999999.99 WHEN '006A00000000002' THEN 0.10 "
        "WHEN '006A00000000003' THEN 1234.50 ELSE 700.00 END WHERE Id <= '006A00000000004'"
    )
    text = api.sf_query(
        "SELECT Id, Amount FROM Opportunity WHERE Id <= '006A00000000004' ORDER BY Id"
    ).text
    amounts = re.findall(r'"Amount":([^,}]+)', text)
    assert amounts == ["9999999999999999.99", "0.1", "1234.5", "700"]
