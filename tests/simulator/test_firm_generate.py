"""The generated firm: determinism, a clean firm's invariants, keys, planted truth."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pytest
import yaml
from firm_fixtures import AS_OF, RULES, cached_firm, clock, detect, firm, open_truth, table_hashes

from pipelines.settings import PROJECT_ROOT
from simulator.firm import FirmParams, generate, ground_truth, write_ground_truth
from simulator.firm.generate import FirmError
from simulator.firm.ids import sf_checksum
from simulator.firm.names import normalize
from simulator.firm.plan import build_customers


def test_same_seed_gives_identical_tables_and_another_seed_does_not() -> None:
    first, second, other = table_hashes(firm(42)), table_hashes(firm(42)), table_hashes(firm(7))
    assert first == second
    assert first["hv_time_entries"] != other["hv_time_entries"]
    assert first["sf_opportunity"] != other["sf_opportunity"]


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="scale"):
        FirmParams(scale="huge")
    with pytest.raises(ValueError, match="grace"):
        FirmParams(grace_days=1)
    with pytest.raises(ValueError, match="problem rate"):
        FirmParams(problem_rate=0.9)


def test_a_database_is_generated_once() -> None:
    con = duckdb.connect()
    generate(con, FirmParams(problem_rate=0))
    with pytest.raises(FirmError, match="already holds"):
        generate(con, FirmParams(problem_rate=0))


# --- a clean firm ------------------------------------------------------------------------
def test_clean_firm_has_no_ground_truth_and_no_exceptions() -> None:
    con = cached_firm(problem_rate=0)
    assert ground_truth(con) == []
    assert {name: found for name, found in detect(con).items() if found} == {}


def _zero(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    rows = con.execute(sql).fetchall()
    assert rows == [], rows[:5]


def test_clean_firm_invariants() -> None:
    con = cached_firm(problem_rate=0)
    today = clock(con).date()
    # Every approved billable T&M hour of a month past the grace period is on a real invoice.
    _zero(
        con,
        f"""
        select te.id from hv_time_entries te join hv_projects p on p.id = te.project_id
        where p.is_billable and not p.is_fixed_fee and te.billable and te.is_closed
          and last_day(te.spent_date) + 10 < date '{today}'
          and (not te.is_billed or te.invoice_number not in (
               select tranid from ns_transaction where type = 'CustInvc'))""",
    )
    # Opportunity amount = its line items = its sales order.
    _zero(
        con,
        """
        select o.Id from sf_opportunity o
        join (select OpportunityId, sum(TotalPrice) t from sf_opportunitylineitem group by 1) li
          on li.OpportunityId = o.Id
        left join ns_transaction so on so.custbody_sf_opportunity_id = o.Id
             and so.type = 'SalesOrd'
        where o.Amount <> li.t or (o.IsWon and (so.foreigntotal is null
                                                or so.foreigntotal <> o.Amount))""",
    )
    _zero(con, "select * from sf_opportunitylineitem where TotalPrice <> Quantity * UnitPrice")
    # Invoice lines: tax code and tax by jurisdiction, amounts, totals, exchange rates.
    _zero(
        con,
        """
        select l.uniquekey from ns_transactionline l
        join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
        join ns_customer c on c.id = t.entity
        join ns_salestaxitem x on x.id = l.taxcode
        where l.netamount <> l.quantity * l.rate
           or l.tax1amt <> round(l.netamount * x.rate * 0.01, 2)
           or x.name <> case c.custentity_billing_country when 'GB' then 'UK VAT 20%'
                             when 'DE' then 'DE USt 19%' when 'US' then 'US Exempt Services 0%'
                             else 'EU Reverse Charge 0%' end""",
    )
    _zero(
        con,
        """
        select t.id from ns_transaction t
        join ns_transactionline l on l.transaction = t.id
        where t.type = 'CustInvc' group by t.id, t.foreigntotal
        having t.foreigntotal <> sum(l.netamount + l.tax1amt)""",
    )
    _zero(
        con,
        """
        with usd as (select p.id period, 1 cur, 1.0::double r from ns_accountingperiod p
                     union all select postingperiod, fromcurrency, averagerate::double
                     from ns_consolidatedexchangerate)
        select t.id from ns_transaction t
        join ns_subsidiary s on s.id = t.subsidiary
        join ns_accountingperiod p on t.trandate between p.startdate and p.enddate
        join usd a on a.period = p.id and a.cur = t.currency
        join usd b on b.period = p.id and b.cur = s.currency
        where t.exchangerate <> round(a.r / b.r, 6)""",
    )
    # Periods close 8 days after month end at 18:00, once that moment has passed.
    _zero(
        con,
        f"""
        select id from ns_accountingperiod
        where closed <> (enddate + 8 + time '18:00' <= timestamp '{clock(con)}')
           or (closed and closedondate <> enddate + 8 + time '18:00')""",
    )
    # Consultants are on at most one project a day, in quarter hours, in their entity.
    _zero(
        con,
        """select user_id, spent_date from hv_time_entries
                  group by all having count(*) > 1""",
    )
    _zero(con, "select id from hv_time_entries where hours * 4 <> floor(hours * 4)")
    _zero(
        con,
        """
        select te.id from hv_time_entries te
        join hv_users u on u.id = te.user_id
        join hv_projects p on p.id = te.project_id and p.code is not null
        join sf_opportunity o on o.Id = p.code
        join sf_account a on a.Id = o.AccountId
        where case u.roles[2] when 'New York' then 'US' when 'London' then 'GB' else 'EU' end
           <> case a.BillingCountry when 'US' then 'US' when 'GB' then 'GB' else 'EU' end""",
    )


def test_timestamps_are_consistent_and_never_after_the_clock() -> None:
    con = cached_firm()
    now = clock(con)
    for table, created, modified in (
        ("sf_account", "CreatedDate", "SystemModstamp"),
        ("sf_opportunity", "CreatedDate", "SystemModstamp"),
        ("sf_opportunitylineitem", "CreatedDate", "SystemModstamp"),
        ("sf_contract", "CreatedDate", "SystemModstamp"),
        ("hv_projects", "created_at", "updated_at"),
        ("hv_time_entries", "created_at", "updated_at"),
        ("hv_expenses", "created_at", "updated_at"),
        ("ns_transaction", "createddate", "lastmodifieddate"),
        ("ns_customer", "datecreated", "lastmodifieddate"),
    ):
        _zero(
            con,
            f"select * from {table} where {created} > {modified} or {modified} > timestamp '{now}'",
        )
    _zero(con, "select * from sf_opportunity where LastModifiedDate <> SystemModstamp")
    _zero(con, f"select * from ns_transactionline where linelastmodifieddate > timestamp '{now}'")
    _zero(
        con,
        "select * from hv_projects p join sf_opportunity o on o.Id = p.code "
        "where p.starts_on <= o.CloseDate",
    )


def test_ids_look_like_the_vendors() -> None:
    con = cached_firm()
    for table, column, prefix in (
        ("sf_account", "Id", "001"),
        ("sf_opportunity", "Id", "006"),
        ("sf_opportunitylineitem", "Id", "00k"),
        ("sf_contract", "Id", "800"),
    ):
        values = [v for (v,) in con.execute(f"select {column} from {table}").fetchall()]
        assert all(len(v) == 18 and v.startswith(prefix) for v in values)
        assert all(sf_checksum(v[:15]) == v[15:] for v in values)
    _zero(con, "select uniquekey from ns_transactionline group by 1 having count(*) > 1")
    _zero(con, "select tranid, type from ns_transaction group by all having count(*) > 1")


def test_integration_keys_hold() -> None:
    con = cached_firm(problem_rate=0)
    share = con.execute("""
        select avg((c.externalid = a.Id)::int), count(c.externalid), count(*)
        from ns_customer c join sf_account a on a.Name = c.companyname""").fetchone()
    assert share[0] == 1.0 and 0.75 < share[1] / share[2] < 1.0  # ~10% carry no externalid
    _zero(
        con,
        """select p.id from hv_projects p left join sf_opportunity o on o.Id = p.code
                  where p.is_billable and not coalesce(o.IsWon, false)""",
    )
    _zero(
        con,
        """select o.Id from sf_opportunity o left join ns_transaction t
                  on t.custbody_sf_opportunity_id = o.Id and t.type = 'SalesOrd'
                  where o.IsWon and t.id is null""",
    )
    _zero(
        con,
        """
        select l.uniquekey from ns_transactionline l
        join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
        join ns_item i on i.id = l.item
        left join hv_projects p on p.id::varchar = l.custcol_psa_project_id
        where p.code is distinct from t.custbody_sf_opportunity_id""",
    )
    _zero(
        con,
        """
        select te.id from hv_time_entries te
        left join ns_transaction t on t.tranid = te.invoice_number and t.type = 'CustInvc'
        left join ns_transactionline l on l.transaction = t.id
             and l.custcol_psa_project_id = te.project_id::varchar
        where te.is_billed and l.uniquekey is null""",
    )
    _zero(
        con,
        """
        select te.id from hv_time_entries te join hv_tasks k on k.id = te.task_id
        join hv_projects p on p.id = te.project_id
        left join sf_opportunitylineitem li on li.OpportunityId = p.code
             and li.ProductCode = upper(replace(k.name, ' ', '_'))
        where p.is_billable and (li.Id is null or te.billable and
                                 te.billable_rate <> li.UnitPrice)""",
    )


def test_near_misses_exist_and_are_not_duplicates() -> None:
    con = cached_firm()
    names = con.execute(
        "select Name, BillingCountry, ParentId from sf_account where not IsDeleted"
    ).fetchall()
    by_base: dict[str, set[str]] = {}
    for name, country, _ in names:
        by_base.setdefault(normalize(name), set()).add(country)
    assert any(len(countries) > 1 for countries in by_base.values())
    assert sum(parent is not None for *_, parent in names) >= 3
    assert (
        con.execute("select count(*) from ns_customer where externalid is null").fetchone()[0] > 0
    )
    unsubmitted = con.execute(f"""
        select count(*) from hv_time_entries where not is_closed
        and spent_date < date '{clock(con).date() - timedelta(days=8)}'""").fetchone()[0]
    assert unsubmitted > 0


# --- planted problems ----------------------------------------------------------------------
def test_every_exception_class_is_planted_at_small_scale() -> None:
    truth = open_truth(cached_firm())
    assert {name for name in RULES if not truth[name]} == set()


@pytest.mark.parametrize("exception_type", sorted(RULES))
def test_ground_truth_is_exactly_what_the_rules_find(exception_type: str) -> None:
    con = cached_firm()
    assert detect(con)[exception_type] == open_truth(con)[exception_type]


def test_a_zero_rate_is_clean_for_another_seed_and_date_too() -> None:
    con = duckdb.connect()
    generate(con, FirmParams(seed=3, as_of=date(2026, 3, 5), problem_rate=0, grace_days=5))
    assert {name: found for name, found in detect(con).items() if found} == {}


def test_ground_truth_csv_is_sorted_and_deterministic(tmp_path) -> None:
    con = cached_firm()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    n = write_ground_truth(con, a)
    write_ground_truth(firm(), b)
    assert a.read_bytes() == b.read_bytes()
    rows = list(csv.DictReader(a.open()))
    assert len(rows) == n == len(ground_truth(con))
    assert list(rows[0]) == [
        "exception_type",
        "source_system",
        "source_record_id",
        "status",
        "planted_at",
        "resolved_at",
        "note",
    ]
    keys = [(r["exception_type"], r["source_system"], r["source_record_id"]) for r in rows]
    assert keys == sorted(keys)
    assert {r["status"] for r in rows} == {"open"}
    assert all(r["planted_at"] <= f"{AS_OF} 20:00:00" for r in rows)


def test_customer_names_are_unique_per_country_for_any_seed() -> None:
    for seed in range(40):
        c = build_customers(FirmParams(seed=seed))
        per_key = c.assign(key=c["name"].map(normalize)).groupby(["key", "country"]).size()
        assert (per_key == 1).all(), seed
        assert c.groupby("base")["country"].nunique().max() >= 2, seed  # a near-miss


def test_the_simulators_name_rule_is_the_dbt_macros() -> None:
    """`normalize` (the ground truth's duplicate rule) gives what the dbt unit test
    `customer_names_normalize_by_the_duplicate_rule` expects of `normalize_company_name`
    for every account name it gives, Unicode names included."""
    models = yaml.safe_load(
        (PROJECT_ROOT / "dbt_project/models/intermediate/_intermediate__models.yml").read_text()
    )
    (test,) = [
        t
        for t in models["unit_tests"]
        if t["name"] == "customer_names_normalize_by_the_duplicate_rule"
    ]
    (accounts,) = [
        g["rows"] for g in test["given"] if g["input"] == "ref('stg_salesforce__accounts')"
    ]
    expected = {
        row["source_record_id"]: row["normalized_name"]
        for row in test["expect"]["rows"]
        if row["source_system"] == "crm"
    }
    given = {
        row["account_id"]: row["account_name"] for row in accounts if row["account_id"] in expected
    }
    assert len(given) == len(expected) >= 14
    assert {rid: normalize(name) or None for rid, name in given.items()} == expected


def test_the_legal_suffixes_are_the_macros() -> None:
    import re

    from simulator.firm.names import LEGAL_SUFFIX_TOKENS

    macro = (PROJECT_ROOT / "dbt_project/macros/normalize_company_name.sql").read_text()
    (listed,) = re.findall(r"var\('legal_suffix_tokens', \[(.*?)\]\)", macro, re.S)
    assert re.findall(r"'(\w+)'", listed) == list(LEGAL_SUFFIX_TOKENS)
