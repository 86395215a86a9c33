"""Shared helpers for the firm tests: small firms built once, and the reference rules.

`RULES` is the contract's detection rules (simulator/README.md) written independently
of the generator as plain SQL over the vendor tables. A correct simulator makes them
return exactly the open ground truth; the tests check that for every exception type.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

import duckdb

from simulator.firm import FirmParams, advance, generate

AS_OF = date(2026, 11, 25)

NORMALIZED = (
    "regexp_replace(trim(regexp_replace(regexp_replace(lower({col}), '[.,'']', '', 'g'), "
    "'[^a-z0-9]+', ' ', 'g')), '( (inc|incorporated|corp|corporation|llc|ltd|limited|plc|"
    "gmbh|ag|sa|bv))+$', '')"
)

# A void invoice: credited in full by the credit memos created from it. The invoice rules
# leave it out (its rebill, if any, is judged instead).
LIVE = (
    "t.foreigntotal > coalesce((select sum(c.foreigntotal) from ns_transaction c "
    "where c.type = 'CustCred' and c.createdfrom = t.id), 0)"
)

RULES: dict[str, str] = {
    "unbilled_approved_time": """
        select 'psa', te.id::varchar
        from hv_time_entries te
        join hv_projects p on p.id = te.project_id
        where p.is_billable and not p.is_fixed_fee and te.billable and te.is_closed
          and not te.is_billed
          and last_day(te.spent_date) + $grace < $today
    """,
    "billed_time_missing_invoice": """
        select 'psa', te.id::varchar
        from hv_time_entries te
        where te.is_billed and (te.invoice_number is null or te.invoice_number not in (
            select tranid from ns_transaction where type = 'CustInvc'))
    """,
    "missing_tax_code": f"""
        select 'erp', l.uniquekey::varchar
        from ns_transactionline l
        join ns_transaction t on t.id = l.transaction
        where t.type = 'CustInvc' and not l.mainline and l.taxcode is null and {LIVE}
    """,
    "invoice_rate_variance": f"""
        select 'erp', l.uniquekey::varchar
        from ns_transactionline l
        join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
        join ns_currency c on c.id = t.currency
        join ns_item i on i.id = l.item
        join sf_opportunity o on o.Id = t.custbody_sf_opportunity_id
             and o.IsWon and not o.IsDeleted
        join sf_opportunitylineitem li on li.OpportunityId = o.Id
             and li.ProductCode = i.itemid and not li.IsDeleted
        where c.symbol = o.CurrencyIsoCode and l.rate <> li.UnitPrice and {LIVE}
    """,
    "booking_drift": """
        select 'crm', o.Id
        from sf_opportunity o
        left join ns_transaction so
               on so.type = 'SalesOrd' and so.custbody_sf_opportunity_id = o.Id
        where o.IsWon and not o.IsDeleted
          and (so.id is null
               or abs(o.Amount - so.foreigntotal) > greatest(0.005 * abs(o.Amount), 1.00))
    """,
    "project_without_contract": """
        select 'psa', p.id::varchar
        from hv_projects p
        left join sf_opportunity o on o.Id = p.code and o.IsWon and not o.IsDeleted
        where p.is_billable
          and (o.Id is null or cast(p.created_at as date) < o.CloseDate)
    """,
    "duplicate_customer": f"""
        select 'crm', Id from (
            select Id, count(*) over (partition by {NORMALIZED.format(col="Name")},
                                      BillingCountry) as n
            from sf_account where not IsDeleted) where n > 1
        union all
        select 'erp', id::varchar from (
            select id, count(*) over (partition by {NORMALIZED.format(col="companyname")},
                                      custentity_billing_country) as n
            from ns_customer where not isinactive) where n > 1
    """,
    "invoice_currency_mismatch": f"""
        select 'erp', t.id::varchar
        from ns_transaction t
        join ns_currency c on c.id = t.currency
        join sf_opportunity o on o.Id = t.custbody_sf_opportunity_id
             and o.IsWon and not o.IsDeleted
        where t.type = 'CustInvc' and c.symbol <> o.CurrencyIsoCode and {LIVE}
    """,
    # Written apart from truth.REPORTING_DRIFT_SQL on purpose: ERP amounts are converted
    # with each invoice's own exchangerate, PSA amounts entry by entry. Billed time counts
    # where the invoice numbered as Harvest shows it posts (one not credited in full first);
    # time no invoice has, where it was worked, for the consultant's office; credit memos
    # net against the invoice they credit, so time on an invoice credited in full counts
    # on neither side.
    "reporting_drift": """
        with period as (select * from ns_accountingperiod),
        usd as (
            select p.id as period, 'USD' as ccy, 1.0::double as r from period p
            union all
            select postingperiod, c.symbol, averagerate::double
            from ns_consolidatedexchangerate x join ns_currency c on c.id = x.fromcurrency
        ),
        functional as (
            select s.id as sub, c.symbol as ccy from ns_subsidiary s
            join ns_currency c on c.id = s.currency
        ),
        void as (
            select i.id from ns_transaction i
            where i.type = 'CustInvc' and i.foreigntotal <= (
                select sum(c.foreigntotal) from ns_transaction c
                where c.type = 'CustCred' and c.createdfrom = i.id)
        ),
        first_invoice as (
            select distinct on (tranid) tranid, postingperiod, subsidiary,
                   id in (select id from void) as is_void
            from ns_transaction where type = 'CustInvc'
            order by tranid, id in (select id from void), id
        ),
        billed as (
            select te.hours * te.billable_rate as amount, cl.currency as ccy,
                   coalesce(i.postingperiod, p.id) as period,
                   coalesce(i.subsidiary, case u.roles[2] when 'New York' then 1
                                          when 'London' then 2 else 3 end) as sub
            from hv_time_entries te
            join hv_projects pr on pr.id = te.project_id
            join hv_clients cl on cl.id = pr.client_id
            join hv_users u on u.id = te.user_id
            join period p on te.spent_date between p.startdate and p.enddate
            left join first_invoice i on i.tranid = te.invoice_number
            where te.is_billed and pr.is_billable and not pr.is_fixed_fee
              and not coalesce(i.is_void, false)
        ),
        psa as (
            select billed.period, billed.sub, sum(billed.amount * round(a.r / b.r, 6)) as v
            from billed
            join functional f on f.sub = billed.sub
            join usd a on a.period = billed.period and a.ccy = billed.ccy
            join usd b on b.period = billed.period and b.ccy = f.ccy
            group by all
        ),
        erp as (
            select coalesce(inv.postingperiod, t.postingperiod) as period, l.subsidiary as sub,
                   sum(case when t.type = 'CustCred' then -1 else 1 end * l.netamount
                       * coalesce(inv.exchangerate, t.exchangerate)) as v
            from ns_transactionline l
            join ns_transaction t on t.id = l.transaction and t.type in ('CustInvc', 'CustCred')
            left join ns_transaction inv on t.type = 'CustCred' and inv.id = t.createdfrom
            join ns_item i on i.id = l.item and i.itemid <> 'FIXED_FEE'
            group by all
        ),
        b as (
            select coalesce(psa.period, erp.period) as period,
                   coalesce(psa.sub, erp.sub) as sub,
                   round(coalesce(psa.v, 0), 2) as pv, round(coalesce(erp.v, 0), 2) as ev
            from psa full join erp on psa.period = erp.period and psa.sub = erp.sub
        ),
        keys as (
            select period, sub from b
            where abs(pv - ev) > greatest(0.005 * greatest(abs(pv), abs(ev)), 1.00)
            union
            select p.id, case u.roles[2] when 'New York' then 1 when 'London' then 2 else 3 end
            from hv_time_entries te
            join hv_projects pr on pr.id = te.project_id
            join hv_users u on u.id = te.user_id
            join period p on te.spent_date between p.startdate and p.enddate
            where p.closed and te.created_at > p.closedondate and te.is_closed
              and te.billable and pr.is_billable and not pr.is_fixed_fee
            union
            select t.postingperiod, l.subsidiary
            from ns_transactionline l
            join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
            join period p on p.id = t.postingperiod
            where p.closed and l.linelastmodifieddate > p.closedondate
        )
        select 'warehouse', strftime(p.startdate, '%Y-%m') || '|' || k.sub
        from keys k join period p on p.id = k.period
    """,
}


def clock(con: duckdb.DuckDBPyConnection) -> datetime:
    return datetime.fromisoformat(
        con.execute("select value from sim_meta where key = 'clock'").fetchone()[0]
    )


def detect(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[str, str]]]:
    """Run every reference rule on the firm's tables."""
    grace = int(con.execute("select value from sim_meta where key = 'grace_days'").fetchone()[0])
    today = clock(con).date()
    out = {}
    for name, sql in RULES.items():
        q = sql.replace("$grace", str(grace)).replace("$today", f"date '{today}'")
        out[name] = {(s, str(i)) for s, i in con.execute(q).fetchall()}
    return out


def open_truth(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {name: set() for name in RULES}
    for exc, system, rid in con.execute(
        "select exception_type, source_system, source_record_id from sim_ground_truth "
        "where resolved_at is null"
    ).fetchall():
        out.setdefault(exc, set()).add((system, rid))
    return out


def table_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """An md5 per table over its rows in storage order (byte-level determinism)."""
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables order by 1"
        ).fetchall()
    ]
    return {
        t: con.execute(
            f"select md5(coalesce(string_agg(cast(x as varchar), '\n'), '')) from {t} x"
        ).fetchone()[0]
        for t in tables
    }


def firm(
    seed: int = 42, problem_rate: float = 0.03, days: tuple[int, ...] = ()
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory small firm, optionally advanced by each of `days` in turn."""
    con = duckdb.connect()
    generate(con, FirmParams(seed=seed, scale="small", as_of=AS_OF, problem_rate=problem_rate))
    for d in days:
        advance(con, days=d)
    return con


@functools.cache
def cached_firm(
    seed: int = 42, problem_rate: float = 0.03, days: tuple[int, ...] = ()
) -> duckdb.DuckDBPyConnection:
    """Like `firm`, built once per session: tests using it must only read."""
    return firm(seed, problem_rate, days)
