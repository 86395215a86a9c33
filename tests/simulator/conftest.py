"""Fixtures for the simulator API tests: a small, fully deterministic firm and a live server.

The firm is built with plain DuckDB SQL over ``range()`` (no generator needed). Every
fixture value is a closed-form function of the row number, so tests can compute the
expected answers independently of the API code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
import requests

from simulator.api.server import FaultConfig, SimulatorServer
from simulator.schema import create_all

TOKEN = "test-token-7f3a"
ACCOUNT_ID = "424242"

# Row counts (small, but several pages at the minimum page sizes).
N_ACCOUNTS = 450
N_OPPS = 260
N_LINES = 300
N_CONTRACTS = 40
N_CLIENTS = 12
N_USERS = 8
N_TASKS = 5
N_PROJECTS = 24
N_TIME = 530
N_EXPENSES = 90
N_TRANSACTIONS = 240
N_TLINES = 2300


def _ts(expr: str) -> str:
    return f"TIMESTAMP '2024-01-01 00:00:00' + {expr}"


def _rows(n: int, start: int = 1) -> str:
    return f"(SELECT CAST(range AS INTEGER) AS i FROM range({start}, {start + n}))"


def build_firm(con: duckdb.DuckDBPyConnection) -> None:
    """Populate every vendor table with deterministic rows (``BY NAME``: robust to new columns)."""
    create_all(con)
    con.execute(f"""
        INSERT INTO sf_account BY NAME
        SELECT printf('001A%011d', i) AS Id,
               CASE WHEN i % 50 = 7 THEN NULL ELSE 'Account ' || i END AS Name,
               CASE WHEN i > 10 THEN printf('001A%011d', i % 10 + 1) END AS ParentId,
               ['US', 'GB', 'DE'][i % 3 + 1] AS BillingCountry,
               ['USD', 'GBP', 'EUR'][i % 3 + 1] AS CurrencyIsoCode,
               {_ts("to_hours(i)")} AS CreatedDate,
               {_ts("to_hours(i) + to_minutes(i % 7)")} AS LastModifiedDate,
               {_ts("to_hours(i) + to_minutes(i % 7) + to_milliseconds(i % 1000)")}
                   AS SystemModstamp,
               i % 9 = 0 AS IsDeleted
        FROM {_rows(N_ACCOUNTS)}
    """)
    con.execute(f"""
        INSERT INTO sf_opportunity BY NAME
        SELECT printf('006A%011d', i) AS Id, 'Opp ' || i AS Name,
               printf('001A%011d', i % {N_ACCOUNTS} + 1) AS AccountId,
               ['Prospecting', 'Closed Won', 'Closed Lost'][i % 3 + 1] AS StageName,
               i % 3 <> 0 AS IsClosed, i % 3 = 1 AS IsWon, DATE '2024-03-01' + i AS CloseDate,
               CAST(i * 100 + 0.5 AS DECIMAL(18,2)) AS Amount, 'USD' AS CurrencyIsoCode,
               CASE WHEN i % 3 = 1 THEN printf('800A%011d', i) END AS ContractId,
               {_ts("to_hours(i)")} AS CreatedDate, {_ts("to_hours(i)")} AS LastModifiedDate,
               {_ts("to_hours(i)")} AS SystemModstamp, i % 20 = 0 AS IsDeleted
        FROM {_rows(N_OPPS)}
    """)
    con.execute(f"""
        INSERT INTO sf_opportunitylineitem BY NAME
        SELECT printf('00kA%011d', i) AS Id, printf('006A%011d', i % {N_OPPS} + 1) AS OpportunityId,
               'CONS-' || (i % 4) AS ProductCode, 'Consulting' AS Name,
               CAST(i % 40 + 0.25 AS DECIMAL(10,2)) AS Quantity, 150.00 AS UnitPrice,
               CAST((i % 40 + 0.25) * 150 AS DECIMAL(18,2)) AS TotalPrice, 'USD' AS CurrencyIsoCode,
               {_ts("to_hours(i)")} AS CreatedDate, {_ts("to_hours(i)")} AS LastModifiedDate,
               {_ts("to_hours(i)")} AS SystemModstamp, FALSE AS IsDeleted
        FROM {_rows(N_LINES)}
    """)
    con.execute(f"""
        INSERT INTO sf_contract BY NAME
        SELECT printf('800A%011d', i) AS Id, printf('001A%011d', i) AS AccountId,
               printf('%08d', i) AS ContractNumber, 'Activated' AS Status,
               DATE '2024-01-01' + i AS StartDate, DATE '2025-01-01' + i AS EndDate,
               {_ts("to_days(i)")} AS ActivatedDate, {_ts("to_hours(i)")} AS CreatedDate,
               {_ts("to_hours(i)")} AS LastModifiedDate, {_ts("to_hours(i)")} AS SystemModstamp,
               FALSE AS IsDeleted
        FROM {_rows(N_CONTRACTS)}
    """)
    con.execute(f"""
        INSERT INTO hv_clients BY NAME
        SELECT i AS id, 'Client ' || i AS name, i % 5 <> 0 AS is_active,
               i || ' Main St' AS address, ['USD', 'EUR'][i % 2 + 1] AS currency,
               {_ts("to_days(i)")} AS created_at, {_ts("to_days(i) + to_hours(1)")} AS updated_at
        FROM {_rows(N_CLIENTS)}
    """)
    con.execute(f"""
        INSERT INTO hv_users BY NAME
        SELECT i AS id, 'First' || i AS first_name, 'Last' || i AS last_name,
               'user' || i || '@firm.test' AS email, 'Europe/London' AS timezone,
               i % 4 = 0 AS is_contractor, TRUE AS is_active, 144000 AS weekly_capacity,
               175.00 AS default_hourly_rate, 80.50 AS cost_rate,
               CASE WHEN i % 2 = 0 THEN ['Consultant', 'Lead'] ELSE ['Consultant'] END AS roles,
               {_ts("to_days(i)")} AS created_at, {_ts("to_days(i)")} AS updated_at
        FROM {_rows(N_USERS)}
    """)
    con.execute(f"""
        INSERT INTO hv_tasks BY NAME
        SELECT i AS id, 'Task ' || i AS name, TRUE AS billable_by_default,
               150.00 AS default_hourly_rate, i = 1 AS is_default, TRUE AS is_active,
               {_ts("to_days(i)")} AS created_at, {_ts("to_days(i)")} AS updated_at
        FROM {_rows(N_TASKS)}
    """)
    con.execute(f"""
        INSERT INTO hv_projects BY NAME
        SELECT i AS id, i % {N_CLIENTS} + 1 AS client_id, 'Client ' || (i % {N_CLIENTS} + 1)
                   AS client_name,
               ['USD', 'EUR'][(i % {N_CLIENTS} + 1) % 2 + 1] AS client_currency,
               'Project ' || i AS name, 'P' || i AS code, TRUE AS is_active,
               i % 6 <> 0 AS is_billable, FALSE AS is_fixed_fee, 'Tasks' AS bill_by,
               1000.00 AS budget, 'project' AS budget_by, 150.00 AS hourly_rate,
               DATE '2024-01-01' AS starts_on,
               {_ts("to_days(i)")} AS created_at, {_ts("to_days(i)")} AS updated_at
        FROM {_rows(N_PROJECTS)}
    """)
    project = f"(i % {N_PROJECTS} + 1)"
    client = f"({project} % {N_CLIENTS} + 1)"
    con.execute(f"""
        INSERT INTO hv_time_entries BY NAME
        SELECT i AS id, DATE '2024-01-01' + (i % 60) AS spent_date,
               CAST((i % 8) + 0.5 AS DECIMAL(10,2)) AS hours,
               CAST((i % 8) + 0.5 AS DECIMAL(10,2)) AS rounded_hours, 'Work ' || i AS notes,
               i % 3 = 0 AS is_locked, FALSE AS is_closed, i % 3 = 0 AS is_billed,
               FALSE AS is_running, i % 5 <> 0 AS billable, TRUE AS budgeted,
               CAST(100 + i % 3 * 25 AS DECIMAL(18,2)) AS billable_rate, 80.00 AS cost_rate,
               i % {N_USERS} + 1 AS user_id,
               'First' || (i % {N_USERS} + 1) || ' Last' || (i % {N_USERS} + 1) AS user_name,
               {client} AS client_id, 'Client ' || {client} AS client_name,
               'USD' AS client_currency, {project} AS project_id,
               'Project ' || {project} AS project_name, 'P' || {project} AS project_code,
               i % {N_TASKS} + 1 AS task_id, 'Task ' || (i % {N_TASKS} + 1) AS task_name,
               CASE WHEN i % 3 = 0 THEN 9000 + i // 30 END AS invoice_id,
               CASE WHEN i % 3 = 0 THEN 'INV-' || (9000 + i // 30) END AS invoice_number,
               {_ts("to_minutes(i * 7)")} AS created_at, {_ts("to_minutes(i * 7)")} AS updated_at
        FROM {_rows(N_TIME)}
    """)
    con.execute(f"""
        INSERT INTO hv_expenses BY NAME
        SELECT i AS id, DATE '2024-01-01' + (i % 60) AS spent_date, 'Taxi ' || i AS notes,
               CAST(20 + i % 7 + 0.25 AS DECIMAL(18,2)) AS total_cost, 1.00 AS units,
               FALSE AS is_closed, FALSE AS is_locked, i % 4 = 0 AS is_billed,
               i % 3 <> 0 AS billable, i % {N_USERS} + 1 AS user_id,
               'User ' || (i % {N_USERS} + 1) AS user_name, {client} AS client_id,
               'Client ' || {client} AS client_name, 'USD' AS client_currency,
               {project} AS project_id, 'Project ' || {project} AS project_name,
               'P' || {project} AS project_code, 1 AS expense_category_id,
               'Travel' AS expense_category_name,
               {_ts("to_minutes(i * 11)")} AS created_at, {_ts("to_minutes(i * 11)")} AS updated_at
        FROM {_rows(N_EXPENSES)}
    """)
    ts0 = _ts("INTERVAL 0 SECOND")
    con.execute(f"""
        INSERT INTO ns_subsidiary BY NAME
        SELECT * FROM (VALUES
          (1, 'Parent Co', 'US', 1, NULL, FALSE, {ts0}),
          (2, 'UK Ltd', 'GB', 2, 1, FALSE, {ts0}),
          (3, 'Elimination', 'US', 1, 1, TRUE, {ts0})
        ) v(id, name, country, currency, parent, iselimination, lastmodifieddate)
    """)
    con.execute(f"""
        INSERT INTO ns_currency BY NAME
        SELECT * FROM (VALUES
          (1, 'USD', 'US Dollar', TRUE, {ts0}), (2, 'GBP', 'British Pound', FALSE, {ts0}),
          (3, 'EUR', 'Euro', FALSE, {ts0})
        ) v(id, symbol, name, isbasecurrency, lastmodifieddate)
    """)
    con.execute(f"""
        INSERT INTO ns_transaction BY NAME
        SELECT i AS id, 'INV' || i AS tranid,
               CASE WHEN i % 4 = 0 THEN 'CustPymt' ELSE 'CustInvc' END AS type,
               DATE '2025-01-01' + (i % 90) AS trandate, DATE '2025-02-01' + (i % 90) AS duedate,
               100 + i % 12 AS postingperiod, i % 40 + 1 AS entity, i % 2 + 1 AS subsidiary,
               i % 2 + 1 AS currency, CAST(1 + (i % 2) * 0.25 AS DECIMAL(18,6)) AS exchangerate,
               CAST(i * 10 + 0.5 AS DECIMAL(18,2)) AS foreigntotal, 'Open' AS status,
               CASE WHEN i % 5 = 0 THEN NULL ELSE 'memo ' || i END AS memo,
               CASE WHEN i % 2 = 0 THEN printf('006A%011d', i) END AS custbody_sf_opportunity_id,
               {_ts("to_hours(i)")} AS createddate,
               {_ts("to_hours(i) + to_seconds(i % 60)")} AS lastmodifieddate
        FROM {_rows(N_TRANSACTIONS)}
    """)
    con.execute(f"""
        INSERT INTO ns_transactionline BY NAME
        SELECT i AS uniquekey, i % {N_TRANSACTIONS} + 1 AS transaction,
               i // {N_TRANSACTIONS} AS id, i // {N_TRANSACTIONS} AS linesequencenumber,
               i < {N_TRANSACTIONS} AS mainline, 1 AS subsidiary, i % 5 + 1 AS item,
               'line ' || i AS memo, CAST(i % 10 + 0.5 AS DECIMAL(10,2)) AS quantity,
               150.00 AS rate, CAST((i % 10 + 0.5) * 150 AS DECIMAL(18,2)) AS netamount,
               0.00 AS tax1amt, 'P' || (i % 24) AS custcol_psa_project_id,
               {_ts("to_minutes(i)")} AS linelastmodifieddate
        FROM {_rows(N_TLINES, start=0)}
    """)
    con.execute(f"""
        INSERT INTO ns_previoustransactionlinelink BY NAME
        SELECT d.i AS previousdoc, 1 AS previousline, d.i + 1 AS nextdoc, l.i AS nextline,
               'Payment' AS linktype, 10.00 AS foreignamount, {ts0} AS lastmodifieddate
        FROM {_rows(5)} d, {_rows(3)} l
    """)
    con.execute(f"""
        INSERT INTO ns_deletedrecord BY NAME
        SELECT 5 AS recordid, 'invoice' AS type, 'INV5' AS name, {ts0} AS deleteddate
    """)


@pytest.fixture(scope="module")
def shared_firm() -> Iterator[tuple[SimulatorServer, duckdb.DuckDBPyConnection]]:
    """One firm and server per test module, for tests that only read."""
    con = duckdb.connect()
    build_firm(con)
    with SimulatorServer(con, token=TOKEN, harvest_account_id=ACCOUNT_ID).start() as srv:
        yield srv, con
    con.close()


class ApiClient:
    """Thin helpers over a real ``requests`` session against the live server."""

    token = TOKEN
    account_id = ACCOUNT_ID

    def __init__(
        self, server: SimulatorServer, firm: duckdb.DuckDBPyConnection, http: requests.Session
    ) -> None:
        self.server = server
        self.firm = firm
        self.http = http
        self.sf_headers = {"Authorization": f"Bearer {TOKEN}"}
        self.hv_headers = {"Authorization": f"Bearer {TOKEN}", "Harvest-Account-Id": ACCOUNT_ID}
        self.ns_headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "transient"}

    # Salesforce
    def sf_query(
        self, soql: str, endpoint: str = "query", headers: dict[str, str] | None = None
    ) -> requests.Response:
        return self.http.get(
            f"{self.server.crm_base_url}/services/data/v62.0/{endpoint}",
            params={"q": soql},
            headers={**self.sf_headers, **(headers or {})},
        )

    def sf_next(self, next_url: str, headers: dict[str, str] | None = None) -> requests.Response:
        return self.http.get(
            self.server.crm_base_url + next_url, headers={**self.sf_headers, **(headers or {})}
        )

    def sf_all(
        self, soql: str, endpoint: str = "query", headers: dict[str, str] | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Follow nextRecordsUrl to the end; returns (pages, records)."""
        first = self.sf_query(soql, endpoint, headers)
        assert first.status_code == 200, first.text
        pages = [first.json()]
        while not pages[-1]["done"]:
            nxt = self.sf_next(pages[-1]["nextRecordsUrl"], headers)
            assert nxt.status_code == 200, nxt.text
            pages.append(nxt.json())
        return pages, [r for p in pages for r in p["records"]]

    # Harvest
    def hv_get(self, path: str, headers: dict[str, str] | None = None, **params: Any):
        return self.http.get(
            f"{self.server.psa_base_url}/v2/{path}",
            params=params,
            headers=self.hv_headers if headers is None else headers,
        )

    def hv_all(self, path: str, **params: Any) -> tuple[list[dict[str, Any]], list[Any]]:
        """Follow ``links.next`` to the end; returns (pages, records)."""
        resource = path.split("/")[-1]
        first = self.hv_get(path, **params)
        assert first.status_code == 200, first.text
        pages = [first.json()]
        while pages[-1]["links"]["next"]:
            nxt = self.http.get(pages[-1]["links"]["next"], headers=self.hv_headers)
            assert nxt.status_code == 200, nxt.text
            pages.append(nxt.json())
        return pages, [r for p in pages for r in p[resource]]

    # NetSuite
    def ns_query(
        self,
        q: str,
        limit: int | None = None,
        offset: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return self.http.post(
            f"{self.server.erp_base_url}/services/rest/query/v1/suiteql",
            params=params,
            json={"q": q},
            headers=self.ns_headers if headers is None else headers,
        )

    def ns_all(self, q: str, limit: int = 1000) -> tuple[list[dict[str, Any]], list[Any]]:
        """Follow the ``next`` link to the end; returns (pages, items)."""
        first = self.ns_query(q, limit=limit)
        assert first.status_code == 200, first.text
        pages = [first.json()]
        while pages[-1]["hasMore"]:
            nxt = next(x["href"] for x in pages[-1]["links"] if x["rel"] == "next")
            resp = self.http.post(nxt, json={"q": q}, headers=self.ns_headers)
            assert resp.status_code == 200, resp.text
            pages.append(resp.json())
        return pages, [i for p in pages for i in p["items"]]


@pytest.fixture
def api(
    shared_firm: tuple[SimulatorServer, duckdb.DuckDBPyConnection],
) -> Iterator[ApiClient]:
    """Client on the module's shared server, with faults and counters reset."""
    server, con = shared_firm
    server.faults = FaultConfig()
    server.reset_counters()
    with requests.Session() as http:
        yield ApiClient(server, con, http)


@pytest.fixture
def fresh_api() -> Iterator[ApiClient]:
    """Client on a server over a firm of its own, for tests that change the data."""
    con = duckdb.connect()
    build_firm(con)
    with (
        SimulatorServer(con, token=TOKEN, harvest_account_id=ACCOUNT_ID).start() as srv,
        requests.Session() as http,
    ):
        yield ApiClient(srv, con, http)
    con.close()
