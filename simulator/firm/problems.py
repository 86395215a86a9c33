"""Problems planted outside invoicing, their fixes, and the deletes of `advance`.

Each plant changes a few records the way a person or a broken integration would, with
modification timestamps at the moment it happens, and records its ground truth. The
same functions serve `generate` (at historical moments) and `advance` (at the new
clock). Each is designed to trip exactly one rule — or, where a real mistake would trip
two, to record both — and every candidate is chosen away from records that another
plant already involves, so plants don't interfere. Reporting drift is never recorded
here: truth.py computes it from the final data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd

from . import ids, names
from .billing import (
    LINE_FIELDS,
    Deal,
    OpenInvoice,
    contracted_rates,
    deals_by_project,
    invoice_header,
    invoice_lines,
    set_total,
    settle,
    wrong_currency,
)
from .erp import (
    CURRENCY_CODES,
    CURRENCY_IDS,
    ITEM_IDS,
    Rates,
    TxnBatch,
    order_line_tax,
    period_id,
    tax_cents,
    total_of,
    tranids,
)
from .params import FIXED_FEE_ITEM, TAX_BY_COUNTRY, FirmParams, month_end
from .plan import Plan
from .psa import LOCKED_INVOICED, TASK_IDS, TASK_ROLE, insert_with_names
from .rand import S_ADVANCE, S_HISTORY, generator
from .store import Store
from .truth import Truth

PROJECT_CODE_VARIANTS = ("blank", "short_id", "unknown", "lost", "early")
BOOKING_VARIANTS = ("amount", "sales_order", "missing")
ERP_DUPLICATE_ID_OFFSET = 5_000
UNKNOWN_OPP_SERIAL = 3_000_000


@dataclass
class Ctx:
    store: Store
    plan: Plan
    truth: Truth
    rng: np.random.Generator
    rates: Rates

    @property
    def params(self) -> FirmParams:
        return self.plan.params

    memo: dict[str, list[tuple]] | None = None
    """Query results reused across plants (history only, where hundreds are planted and
    each plant excludes what earlier ones took through `open_ids`)."""

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        if self.memo is None:
            return self.store.rows(sql, params)
        key = f"{sql}|{params!r}"
        if key not in self.memo:
            self.memo[key] = self.store.rows(sql, params)
        return self.memo[key]

    def pick(self, candidates: list) -> object | None:
        return candidates[int(self.rng.integers(len(candidates)))] if candidates else None

    def choose(self, rows: list[tuple], ok: Callable[[tuple], bool]) -> tuple | None:
        """A random row satisfying `ok`: a few random draws first (cheap on the long
        candidate lists of history plants), then an exhaustive pick."""
        for _ in range(30 if rows else 0):
            row = rows[int(self.rng.integers(len(rows)))]
            if ok(row):
                return row
        return self.pick([r for r in rows if ok(r)])

    def open_ids(self, exception_type: str) -> set[str]:
        return self.truth.open_ids(exception_type, self.rows)

    def pending_entry_ids(self) -> set[int]:
        rows = self.store.json_meta("pending_truth", []) + self.truth.pending
        return {int(r["source_record_id"]) for r in rows}


# --- duplicates ------------------------------------------------------------------------
def _suffix_of(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def plant_duplicate_account(ctx: Ctx, at: datetime) -> str | None:
    busy = ctx.open_ids("duplicate_customer")
    rows = ctx.rows(
        "select Id, Name, BillingCountry, CurrencyIsoCode, CreatedDate from "
        "sf_account where not IsDeleted order by Id"
    )
    original = ctx.choose(rows, lambda r: r[0] not in busy and r[4] < at)
    if original is None:
        return None
    oid, name, country, currency, _ = original
    new_id = ids.sf_id(
        ids.SF_ACCOUNT, ids.SF_DUPLICATE_SERIAL + ctx.store.next_ids("sf_account_extra", 1)[0]
    )
    variant = names.duplicate_variant(name, _suffix_of(name), int(ctx.rng.integers(5)))
    ctx.store.insert(
        "sf_account",
        pd.DataFrame(
            [
                {
                    "Id": new_id,
                    "Name": variant,
                    "ParentId": None,
                    "BillingCountry": country,
                    "CurrencyIsoCode": currency,
                    "CreatedDate": at,
                    "LastModifiedDate": at,
                    "SystemModstamp": at,
                    "IsDeleted": False,
                }
            ]
        ),
    )
    for rid in (oid, new_id):
        ctx.truth.plant(
            "duplicate_customer",
            "crm",
            rid,
            at,
            f"accounts {oid} and {new_id}: '{name}' / '{variant}'",
        )
    return f"duplicate account {new_id} of {oid}"


def plant_duplicate_customer(ctx: Ctx, at: datetime, *, carry: bool = False) -> str | None:
    """A second ERP customer for one real customer; with `carry`, later invoices of the
    original (and their payments) are booked on the duplicate instead (history only)."""
    busy = ctx.open_ids("duplicate_customer")
    rows = ctx.rows(
        "select id, companyname, subsidiary, currency, email, custentity_billing_country, "
        "datecreated from ns_customer where not isinactive order by id"
    )
    with_invoices = (
        {
            e
            for (e,) in ctx.store.rows(
                "select distinct entity from ns_transaction where type = 'CustInvc' "
                "and createddate > ?",
                [at],
            )
        }
        if carry
        else set()
    )
    original = ctx.choose(
        rows, lambda r: r[6] < at and str(r[0]) not in busy and (not carry or r[0] in with_invoices)
    )
    if original is None:
        return None
    oid, name, sub, cur, email, country, _ = original
    new_id = (
        ids.NS_CUSTOMER + ERP_DUPLICATE_ID_OFFSET + ctx.store.next_ids("ns_customer_extra", 1)[0]
    )
    variant = names.duplicate_variant(name, _suffix_of(name), int(ctx.rng.integers(5)))
    ctx.store.insert(
        "ns_customer",
        pd.DataFrame(
            [
                {
                    "id": new_id,
                    "entityid": f"C{new_id}",
                    "companyname": variant,
                    "externalid": None,
                    "parent": None,
                    "subsidiary": sub,
                    "currency": cur,
                    "email": email,
                    "custentity_billing_country": country,
                    "isinactive": False,
                    "datecreated": at,
                    "lastmodifieddate": at,
                }
            ]
        ),
    )
    if carry:
        ctx.store.execute(
            "update ns_transaction set entity = ? where id in (select id from ns_transaction "
            "where entity = ? and type = 'CustInvc' and createddate > ? union select nextdoc "
            "from ns_previoustransactionlinelink k join ns_transaction i on i.id = "
            "k.previousdoc where i.entity = ? and i.type = 'CustInvc' and i.createddate > ?)",
            [new_id, oid, at, oid, at],
            table="ns_transaction",
        )
    for rid in (oid, new_id):
        ctx.truth.plant(
            "duplicate_customer",
            "erp",
            str(rid),
            at,
            f"customers {oid} and {new_id}: '{name}' / '{variant}'",
        )
    return f"duplicate customer {new_id} of {oid}"


def _duplicate_groups(ctx: Ctx) -> list[tuple[str, list[str]]]:
    """Open duplicate groups as (system, member ids), grouped by the contract's key."""
    out: dict[tuple[str, str, str], list[str]] = {}
    crm = dict(
        (r[0], (r[1], r[2]))
        for r in ctx.store.rows("select Id, Name, BillingCountry from sf_account")
    )
    erp = {
        str(r[0]): (r[1], r[2])
        for r in ctx.store.rows(
            "select id, companyname, coalesce(custentity_billing_country, "
            "'subsidiary ' || subsidiary) from ns_customer"
        )
    }
    for system, rid in ctx.store.rows(
        "select source_system, source_record_id from sim_ground_truth where exception_type"
        " = 'duplicate_customer' and resolved_at is null order by 1, 2"
    ):
        name, country = (crm if system == "crm" else erp)[rid]
        out.setdefault((system, names.normalize(name), country), []).append(rid)
    return [(k[0], v) for k, v in sorted(out.items())]


def fix_duplicate(ctx: Ctx, at: datetime, group: tuple[str, list[str]]) -> str:
    """Merge: the record that is not the original goes (SF soft delete; NetSuite delete,
    or inactivate when it carries transactions)."""
    system, members = group
    plan_ids = (
        set(ctx.plan.customers["sf_id"])
        if system == "crm"
        else {str(i) for i in ctx.plan.customers["ns_id"]}
    )
    extra = [m for m in members if m not in plan_ids] or members[1:]
    for rid in extra:
        if system == "crm":
            ctx.store.execute(
                "update sf_account set IsDeleted = true, LastModifiedDate = ?, "
                "SystemModstamp = ? where Id = ?",
                [at, at, rid],
                table="sf_account",
            )
        elif ctx.store.scalar("select count(*) from ns_transaction where entity = ?", [int(rid)]):
            ctx.store.execute(
                "update ns_customer set isinactive = true, lastmodifieddate = ? where id = ?",
                [at, int(rid)],
                table="ns_customer",
            )
        else:
            _ns_delete(
                ctx,
                at,
                "ns_customer",
                "customer",
                int(rid),
                ctx.store.scalar("select entityid from ns_customer where id = ?", [int(rid)]),
            )
    for rid in members:
        ctx.truth.resolve("duplicate_customer", system, rid, at)
    return f"merged duplicate {system} records {', '.join(members)}"


def _ns_delete(
    ctx: Ctx, at: datetime, table: str, record_type: str, record_id: int, name: str
) -> None:
    ctx.store.execute(f"delete from {table} where id = ?", [record_id], table=table, kind="deleted")
    ctx.store.insert(
        "ns_deletedrecord",
        pd.DataFrame(
            [{"recordid": record_id, "type": record_type, "name": name, "deleteddate": at}]
        ),
    )


# --- booking drift ---------------------------------------------------------------------
def plant_booking_drift(ctx: Ctx, at: datetime, variant: str) -> str | None:
    busy = ctx.open_ids("booking_drift")
    rows = ctx.rows(
        "select o.Id, so.id, so.tranid, so.createddate from sf_opportunity o join "
        "ns_transaction so on so.type = 'SalesOrd' and so.custbody_sf_opportunity_id = o.Id "
        "where o.IsWon and not o.IsDeleted order by o.Id"
    )
    choice = ctx.choose(rows, lambda r: r[0] not in busy and r[3] < at - timedelta(hours=1))
    if choice is None:
        return None
    opp_id, so_id, so_tranid, _ = choice
    if variant == "missing":
        ctx.store.execute(
            "delete from ns_transactionline where transaction = ?",
            [so_id],
            table="ns_transactionline",
            kind="deleted",
        )
        _ns_delete(ctx, at, "ns_transaction", "salesorder", so_id, so_tranid)
        note = f"sales order {so_tranid} deleted"
    elif variant == "amount":
        li_id, qty, price = ctx.store.rows(
            "select Id, Quantity::double, UnitPrice::double from sf_opportunitylineitem "
            "where OpportunityId = ? order by TotalPrice desc, Id limit 1",
            [opp_id],
        )[0]
        new_qty = qty + max(5.0, round(qty * 0.2 / 5) * 5)
        delta = (new_qty - qty) * price
        ctx.store.execute(
            "update sf_opportunitylineitem set Quantity = ?, TotalPrice = ?, "
            "LastModifiedDate = ?, SystemModstamp = ? where Id = ?",
            [new_qty, new_qty * price, at, at, li_id],
            table="sf_opportunitylineitem",
        )
        ctx.store.execute(
            "update sf_opportunity set Amount = Amount + ?, LastModifiedDate = ?, "
            "SystemModstamp = ? where Id = ?",
            [delta, at, at, opp_id],
            table="sf_opportunity",
        )
        note = f"line {li_id} re-scoped to {new_qty:g} h after booking"
    else:
        uk, qty, rate = ctx.store.rows(
            "select uniquekey, quantity::double, rate::double from ns_transactionline where "
            "transaction = ? order by netamount desc, uniquekey limit 1",
            [so_id],
        )[0]
        new_qty = max(5.0, round(qty * 0.8 / 5) * 5)
        ctx.store.execute(
            "update ns_transactionline set quantity = ?, netamount = ?, linelastmodifieddate "
            "= ? where uniquekey = ?",
            [new_qty, new_qty * rate, at, uk],
            table="ns_transactionline",
        )
        _retotal(ctx, so_id, at)
        note = f"{so_tranid} line quantity changed to {new_qty:g}"
    ctx.truth.plant("booking_drift", "crm", opp_id, at, note)
    return f"booking drift on {opp_id} ({variant})"


def _retotal(ctx: Ctx, txn_id: int, at: datetime) -> None:
    """Total a transaction from its lines (and its header tax, at header level, recomputed
    from the taxable lines at its tax item's rate)."""
    taxed = ctx.store.rows(
        "select s.rate::double, sum(l.netamount)::double from ns_transaction t "
        "join ns_salestaxitem s on s.id = t.taxitem "
        "join ns_transactionline l on l.transaction = t.id and l.istaxable "
        "where t.id = ? group by all",
        [txn_id],
    )
    if taxed:
        rate, base = taxed[0]
        ctx.store.execute(
            "update ns_transaction set taxtotal = ? where id = ?",
            [int(tax_cents(int(round(base * 100)), rate)) / 100, txn_id],
            table="ns_transaction",
        )
    ctx.store.execute(
        "update ns_transaction set foreigntotal = (select sum(netamount + coalesce(tax1amt, 0))"
        " from ns_transactionline where transaction = ?) + coalesce(taxtotal, 0), "
        "lastmodifieddate = greatest(lastmodifieddate, ?) where id = ?",
        [txn_id, at, txn_id],
        table="ns_transaction",
    )


def fix_booking(ctx: Ctx, at: datetime, opp_id: str) -> str:
    """The deal's sales orders are amended to match the opportunity, and what no order books
    any more is entered on a new one."""
    orders = [
        so_id
        for (so_id,) in ctx.store.rows(
            "select id from ns_transaction where type = 'SalesOrd' and "
            "custbody_sf_opportunity_id = ? order by id",
            [opp_id],
        )
    ]
    items = ctx.store.df(
        "select ProductCode as role, Quantity::double as qty, UnitPrice::double as price, "
        "Name as name from sf_opportunitylineitem where OpportunityId = ? and not IsDeleted "
        "order by Id",
        [opp_id],
    )
    role_of_code = {v: k for k, v in ctx.params.conventions.product_codes.items()}
    items["role"] = items["role"].map(role_of_code)
    o = ctx.plan.opps.set_index("sf_id").loc[opp_id]
    cust = ctx.plan.customers.set_index("cidx").loc[o["cidx"]]
    tax = TAX_BY_COUNTRY[cust["country"]]
    booked = {
        int(item)
        for (item,) in ctx.store.rows(
            "select distinct item from ns_transactionline where list_contains(?, transaction)",
            [orders],
        )
    }
    for li in items.itertuples():
        net = int(round(li.qty * 100)) * int(round(li.price * 100)) // 100
        ctx.store.execute(
            "update ns_transactionline set quantity = ?, rate = ?, netamount = ?, "
            "tax1amt = case when taxcode is null then tax1amt else ? end, "
            "linelastmodifieddate = ? where list_contains(?, transaction) and item = ? and "
            "(quantity <> ? or rate <> ?)",
            [
                li.qty,
                li.price,
                li.qty * li.price,
                tax_cents(net, tax.rate) / 100,
                at,
                orders,
                ITEM_IDS[li.role],
                li.qty,
                li.price,
            ],
            table="ns_transactionline",
        )
    for so_id in orders:
        _retotal(ctx, so_id, at)
    missing = items[~items["role"].map(ITEM_IDS).isin(list(booked))]
    if len(missing):
        conv = ctx.params.conventions
        batch = TxnBatch()
        tranid = tranids(ctx.store, "SalesOrd", 1)[0]
        pid = period_id(ctx.params, at.date())
        lines = [
            {
                "item": ITEM_IDS[li.role],
                "memo": li.name,
                "quantity": li.qty,
                "rate": li.price,
                "netamount": li.qty * li.price,
            }
            for li in missing.itertuples()
        ]
        if conv.books_each_line_item:
            lines = [order_line_tax(li, cust["country"], int(o["entity"]), conv) for li in lines]
        batch.add(
            {
                "key": f"SO:{opp_id}",
                "tranid": tranid,
                "type": "SalesOrd",
                "trandate": at.date(),
                "entity": int(cust["ns_id"]),
                "subsidiary": int(o["entity"]),
                "currency": CURRENCY_IDS[o["currency"]],
                "exchangerate": ctx.rates.exchangerate(pid, o["currency"], int(o["entity"])),
                "foreigntotal": total_of(lines),
                "status": "B",
                "memo": o["name"],
                "custbody_sf_opportunity_id": opp_id,
                "createddate": at,
                "lastmodifieddate": at,
            },
            lines,
        )
        batch.flush(ctx.store)
    ctx.truth.resolve("booking_drift", "crm", opp_id, at)
    return f"sales order for {opp_id} brought in line"


# --- project codes -----------------------------------------------------------------------
def plant_project_code(ctx: Ctx, at: datetime, variant: str) -> str | None:
    busy = ctx.open_ids("project_without_contract")
    deal_ref = ctx.params.conventions.project_deal_sql("p")
    rows = ctx.rows(
        f"select p.id, {deal_ref}, o.AccountId, o.CloseDate, p.created_at, p.updated_at from "
        f"hv_projects p join sf_opportunity o on o.Id = {deal_ref} and o.IsWon and not "
        "o.IsDeleted where p.is_billable order by p.id"
    )
    lost = [
        r[:2]
        for r in ctx.rows(
            "select Id, AccountId, LastModifiedDate from sf_opportunity where IsClosed and not "
            "IsWon and not IsDeleted order by Id"
        )
        if r[2] < at
    ]
    lost_accounts = {a for _, a in lost}
    if variant == "lost" and not lost:
        return None
    choice = ctx.choose(
        rows,
        lambda r: (
            r[4] < at
            and r[5] < at
            and str(r[0]) not in busy
            and (variant != "lost" or r[2] in lost_accounts)
        ),
    )
    if choice is None and variant == "lost":
        choice = ctx.choose(rows, lambda r: r[4] < at and r[5] < at and str(r[0]) not in busy)
    if choice is None:
        return None
    project_id, code, account, close_date, _, _ = choice
    planted_at = at
    if variant == "early":
        created = datetime.combine(
            close_date - timedelta(days=int(ctx.rng.integers(2, 11))), time(10)
        )
        ctx.store.execute(
            "update hv_projects set created_at = ? where id = ?",
            [created, project_id],
            table="hv_projects",
        )
        planted_at = created
        note = f"project created {created:%Y-%m-%d}, deal closed {close_date}"
    else:
        if variant == "blank":
            new_code = None
        elif variant == "short_id":
            new_code = code[:15]
        elif variant == "unknown":
            new_code = ids.sf_id(ids.SF_OPPORTUNITY, UNKNOWN_OPP_SERIAL + project_id % 100_000)
        else:
            same = [i for i, a in lost if a == account]
            new_code = same[0] if same else str(ctx.pick([i for i, _ in lost]))
        _set_project_code(ctx, project_id, new_code, at)
        note = f"code {new_code!r} instead of {code}"
    ctx.truth.plant("project_without_contract", "psa", str(project_id), planted_at, note)
    return f"project {project_id}: {variant}"


def _set_project_code(ctx: Ctx, project_id: int, code: str | None, at: datetime) -> None:
    """Change the deal a project names (its code, or the id in its name, as the firm does).
    Harvest renders the nested project of time entries and expenses live, without touching
    their updated_at; the stored copies follow."""
    name = ctx.plan.won.set_index("project_id").loc[project_id, "name"]
    fields = ctx.params.conventions.project_fields(name, project_id, code)
    ctx.store.execute(
        "update hv_projects set name = ?, code = ?, updated_at = greatest(updated_at, ?) "
        "where id = ?",
        [fields["name"], fields["code"], at, project_id],
        table="hv_projects",
    )
    for table in ("hv_time_entries", "hv_expenses"):
        ctx.store.con.execute(
            f"update {table} set project_name = ?, project_code = ? where project_id = ?",
            [fields["name"], fields["code"], project_id],
        )


def fix_project_code(ctx: Ctx, at: datetime, project_id: int) -> str | None:
    o = ctx.plan.won.set_index("project_id").loc[project_id]
    created = ctx.store.scalar("select created_at from hv_projects where id = ?", [project_id])
    if created.date() < o["close_date"]:
        return None
    _set_project_code(ctx, project_id, o["sf_id"], at)
    ctx.truth.resolve("project_without_contract", "psa", str(project_id), at)
    return f"project {project_id} code set to {o['sf_id']}"


# --- time that never made it onto a real invoice -----------------------------------------
def _catch_up_invoice(
    ctx: Ctx,
    at: datetime,
    deal: Deal,
    entries: pd.DataFrame,
    tranid: str,
    memo: str,
    *,
    mark_billed: bool,
) -> None:
    """Invoice `entries` now, in the current (open) period, at the contracted rates."""
    rates = contracted_rates(ctx.plan)
    hours = entries.groupby("task_id")["hours"].sum()
    by_role = [
        (TASK_ROLE[int(t)], float(h), rates[(deal.oidx, TASK_ROLE[int(t)])])
        for t, h in sorted(hours.items())
    ]
    at_header = ctx.params.conventions.header_tax(deal.entity)
    lines = invoice_lines(deal, by_role, at_header)
    so_ref = dict(
        ctx.store.rows(
            "select custbody_sf_opportunity_id, id from ns_transaction "
            "where type = 'SalesOrd' and custbody_sf_opportunity_id = ?",
            [deal.opp_id],
        )
    )
    header = invoice_header(
        deal,
        tranid,
        at.date().replace(day=1),
        at,
        deal.currency,
        ctx.rates,
        so_ref,
        set(),
        memo,
        trandate=at.date(),
    )
    set_total(header, lines, deal, at_header)
    batch = TxnBatch()
    batch.add(header, lines)
    batch.flush(ctx.store)
    if not mark_billed:
        return
    ctx.store.update(
        "hv_time_entries",
        pd.DataFrame(
            {
                "id": entries["id"],
                "is_billed": True,
                "is_locked": True,
                "locked_reason": LOCKED_INVOICED,
                "invoice_id": ids.harvest_invoice_id(tranid),
                "invoice_number": ctx.params.conventions.harvest_invoice_number(tranid),
                "updated_at": at,
            }
        ),
        ["id"],
        ["is_billed", "is_locked", "locked_reason", "invoice_id", "invoice_number", "updated_at"],
    )


def _entries(ctx: Ctx, where: str, params: list) -> pd.DataFrame:
    return ctx.store.df(
        "select id, project_id, task_id, hours::double as hours from "
        f"hv_time_entries where {where} order by id",
        params,
    )


def fix_unbilled(ctx: Ctx, at: datetime, project_id: int) -> str:
    open_ids = sorted(int(i) for i in ctx.open_ids("unbilled_approved_time"))
    e = _entries(ctx, "project_id = ? and list_contains(?, id)", [project_id, open_ids])
    tranid = tranids(ctx.store, "CustInvc", 1)[0]
    _catch_up_invoice(
        ctx,
        at,
        deals_by_project(ctx.plan)[project_id],
        e,
        tranid,
        "Time and materials - late billing",
        mark_billed=True,
    )
    for i in e["id"]:
        ctx.truth.resolve("unbilled_approved_time", "psa", str(i), at)
    return f"{len(e)} unbilled entries of project {project_id} invoiced on {tranid}"


def fix_missing_invoice(ctx: Ctx, at: datetime, tranid: str) -> str:
    e = _entries(ctx, "invoice_id = ?", [ids.harvest_invoice_id(tranid)])
    deal = deals_by_project(ctx.plan)[int(e["project_id"].iloc[0])]
    # The PSA already shows these entries billed on `tranid`; only the ERP catches up.
    _catch_up_invoice(
        ctx, at, deal, e, tranid, "Time and materials - re-sent from PSA", mark_billed=False
    )
    for i in e["id"]:
        ctx.truth.resolve("billed_time_missing_invoice", "psa", str(i), at)
    return f"invoice {tranid} finally created in the ERP"


# --- invoice problems in an open period (advance only) ---------------------------------
FIXED_FEE_ID = ITEM_IDS[FIXED_FEE_ITEM]
ITEM_ROLE = {v: k for k, v in ITEM_IDS.items()}
# An invoice's deal is the deal of the project its lines bill (every firm's invoice lines
# carry the project; not every firm's header carries the deal).
_INVOICE_PROJECT = (
    "(select max(pl.custcol_psa_project_id) from ns_transactionline pl where pl.transaction = t.id)"
)
# A credited invoice is void: no problem is planted on it.
_NOT_CREDITED = (
    "not exists (select 1 from ns_transaction c where c.type = 'CustCred' and c.createdfrom = t.id)"
)
_OPEN_INVOICES = f"""
    select t.id, t.tranid, {_INVOICE_PROJECT}, t.currency, t.subsidiary,
           t.postingperiod
    from ns_transaction t join ns_accountingperiod p on p.id = t.postingperiod
    where t.type = 'CustInvc' and not p.closed and t.createddate < ?
      and exists (select 1 from ns_transactionline l
                  where l.transaction = t.id and l.item <> {FIXED_FEE_ID})
      and {_NOT_CREDITED}
    order by t.id
"""


def plant_open_invoice(ctx: Ctx, at: datetime, kind: str) -> str | None:
    busy_txn = ctx.open_ids("invoice_currency_mismatch")
    busy_lines = ctx.open_ids("missing_tax_code") | ctx.open_ids("invoice_rate_variance")
    touched = {
        t
        for (t,) in ctx.store.rows(
            "select distinct transaction from ns_transactionline where list_contains(?, "
            "uniquekey::varchar)",
            [sorted(busy_lines)],
        )
    }
    rows = [
        r
        for r in ctx.store.rows(_OPEN_INVOICES, [at])
        if str(r[0]) not in busy_txn and r[0] not in touched
    ]
    choice = ctx.pick(rows)
    if choice is None:
        return None
    txn, tranid, project, currency, sub, pid = choice
    deal = _deal_of_project(ctx, project)
    if kind == "invoice_currency_mismatch":
        wrong = wrong_currency(deal)
        ctx.store.execute(
            "update ns_transaction set currency = ?, exchangerate = ?, lastmodifieddate = ? "
            "where id = ?",
            [CURRENCY_IDS[wrong], ctx.rates.exchangerate(pid, wrong, sub), at, txn],
            table="ns_transaction",
        )
        ctx.truth.plant(kind, "erp", str(txn), at, f"{tranid} switched to {wrong}")
        return f"{tranid} currency changed to {wrong}"
    uk, qty, rate = ctx.store.rows(
        "select l.uniquekey, l.quantity::double, l.rate::double from ns_transactionline l "
        f"where l.transaction = ? and l.item <> {FIXED_FEE_ID} "
        "order by l.uniquekey limit 1",
        [txn],
    )[0]
    if kind == "missing_tax_code" and ctx.params.conventions.header_tax(deal.entity):
        # the header's tax item removed: every taxable line of the invoice has no tax code
        ctx.store.execute(
            "update ns_transaction set taxitem = null, taxtotal = 0, lastmodifieddate = ? "
            "where id = ?",
            [at, txn],
            table="ns_transaction",
        )
        _retotal(ctx, txn, at)
        for (line,) in ctx.store.rows(
            "select uniquekey from ns_transactionline where transaction = ? and istaxable "
            "order by uniquekey",
            [txn],
        ):
            ctx.truth.plant(kind, "erp", str(line), at, f"{tranid}: tax item removed")
        return f"{kind} on {tranid}"
    if kind == "missing_tax_code":
        ctx.store.execute(
            "update ns_transactionline set taxcode = null, tax1amt = 0, "
            "linelastmodifieddate = ? where uniquekey = ?",
            [at, uk],
            table="ns_transactionline",
        )
        note = f"{tranid}: tax code removed"
    else:
        new = float(round(rate * 1.05) if round(rate * 1.05) != rate else rate + 5)
        _set_line_rate(ctx, uk, qty, new, deal, at)
        note = f"{tranid}: rate {new:g} instead of contracted {rate:g}"
    _retotal(ctx, txn, at)
    ctx.truth.plant(kind, "erp", str(uk), at, note)
    return f"{kind} on {tranid}"


def _set_line_rate(ctx: Ctx, uk: int, qty: float, rate: float, deal: Deal, at: datetime) -> None:
    net = int(round(qty * 100)) * int(round(rate * 100)) // 100
    tax = TAX_BY_COUNTRY[deal.country]
    ctx.store.execute(
        "update ns_transactionline set rate = ?, netamount = ?, tax1amt = case when taxcode "
        "is not null then ? when istaxable then null else 0 end, linelastmodifieddate = ? "
        "where uniquekey = ?",
        [rate, net / 100, tax_cents(net, tax.rate) / 100, at, uk],
        table="ns_transactionline",
    )


def _resolve_invoice_tax(ctx: Ctx, txn: int, at: datetime) -> None:
    """Resolve every open missing_tax_code on the lines of invoice `txn` (a header's tax
    item covers them all)."""
    open_ids = ctx.open_ids("missing_tax_code")
    for (line,) in ctx.store.rows(
        "select uniquekey from ns_transactionline where transaction = ? order by uniquekey", [txn]
    ):
        if str(line) in open_ids:
            ctx.truth.resolve("missing_tax_code", "erp", str(line), at)


def _deal_of_project(ctx: Ctx, project: str) -> Deal:
    return deals_by_project(ctx.plan)[int(project)]


def fix_open_invoice(ctx: Ctx, at: datetime, kind: str, record_id: str) -> str | None:
    """Correct an invoice problem: edited while its period is still open (never after
    close), or, in a firm that corrects by credit-and-rebill, credited and issued again."""
    if kind == "invoice_currency_mismatch":
        txn = int(record_id)
    else:
        txn = ctx.store.scalar(
            "select transaction from ns_transactionline where uniquekey = ?", [int(record_id)]
        )
    tranid, project, pid, sub, closed = ctx.store.rows(
        f"select t.tranid, {_INVOICE_PROJECT}, t.postingperiod, t.subsidiary, "
        "p.closed from ns_transaction t join ns_accountingperiod p on p.id = t.postingperiod "
        "where t.id = ?",
        [txn],
    )[0]
    deal = _deal_of_project(ctx, project)
    if ctx.params.conventions.corrects_by_credit_and_rebill:
        return _credit_and_rebill(ctx, at, kind, record_id, txn, deal)
    if closed:
        return None
    if kind == "missing_tax_code" and ctx.params.conventions.header_tax(deal.entity):
        ctx.store.execute(
            "update ns_transaction set taxitem = ?, lastmodifieddate = ? where id = ?",
            [TAX_BY_COUNTRY[deal.country].id, at, txn],
            table="ns_transaction",
        )
        _retotal(ctx, txn, at)
        _resolve_invoice_tax(ctx, txn, at)
        return f"{kind} on {tranid}: tax item set"
    if kind == "invoice_currency_mismatch":
        ctx.store.execute(
            "update ns_transaction set currency = ?, exchangerate = ?, lastmodifieddate = ? "
            "where id = ?",
            [CURRENCY_IDS[deal.currency], ctx.rates.exchangerate(pid, deal.currency, sub), at, txn],
            table="ns_transaction",
        )
    else:
        uk = int(record_id)
        item, qty, rate = ctx.store.rows(
            "select l.item, l.quantity::double, l.rate::double from ns_transactionline l "
            "where l.uniquekey = ?",
            [uk],
        )[0]
        if kind == "missing_tax_code":
            tax = TAX_BY_COUNTRY[deal.country]
            net = ctx.store.scalar(
                "select netamount from ns_transactionline where uniquekey = ?", [uk]
            )
            ctx.store.execute(
                "update ns_transactionline set taxcode = ?, tax1amt = ?, linelastmodifieddate "
                "= ? where uniquekey = ?",
                [tax.id, tax_cents(int(round(float(net) * 100)), tax.rate) / 100, at, uk],
                table="ns_transactionline",
            )
        else:
            contracted = contracted_rates(ctx.plan)[(deal.oidx, ITEM_ROLE[item])]
            _set_line_rate(ctx, uk, qty, float(contracted), deal, at)
        _retotal(ctx, txn, at)
    ctx.truth.resolve(kind, "erp", record_id, at)
    return f"{kind} on {tranid} corrected"


def _credit_and_rebill(
    ctx: Ctx, at: datetime, kind: str, record_id: str, txn: int, deal: Deal
) -> str | None:
    """Credit invoice `txn` in full and issue it again, corrected, today: the rebill keeps
    the Harvest invoice number (otherrefnum), so the time it bills stays where it is in
    Harvest. A paid invoice is rebilled too (the customer's payment then stands against the
    rebill); one already credited is not."""
    rows = ctx.store.rows(
        "select tranid, trandate, entity, subsidiary, currency, foreigntotal::double, "
        f"otherrefnum, createdfrom, status from ns_transaction t where id = ? and {_NOT_CREDITED}",
        [txn],
    )
    if not rows:
        return None
    tranid, trandate, entity, sub, currency, total, ref, created_from, status = rows[0]
    lines = ctx.store.df(
        f"select uniquekey, {', '.join(LINE_FIELDS)} from ns_transactionline "
        "where transaction = ? order by id",
        [txn],
    ).to_dict("records")
    credited = OpenInvoice(True, txn, tranid, trandate, entity, sub, currency, total)
    batch = TxnBatch()
    memo_id, rebill_id = tranids(ctx.store, "CustCred", 1)[0], tranids(ctx.store, "CustInvc", 1)[0]
    settle(
        batch,
        ctx.rates,
        credited,
        "CustCred",
        memo_id,
        at,
        "B",
        f"Credit for {tranid} (rebilled as {rebill_id})",
        [{f: li[f] for f in LINE_FIELDS} for li in lines],
    )
    tax = TAX_BY_COUNTRY[deal.country]
    at_header = ctx.params.conventions.header_tax(deal.entity)
    corrected = []
    for li in lines:
        line = {f: li[f] for f in LINE_FIELDS}
        # (at header level the rebill's header gets the tax item: set_total below)
        if kind == "missing_tax_code" and not at_header and str(li["uniquekey"]) == record_id:
            net = int(round(float(li["netamount"]) * 100))
            line.update(taxcode=tax.id, tax1amt=tax_cents(net, tax.rate) / 100)
        elif kind == "invoice_rate_variance" and str(li["uniquekey"]) == record_id:
            rate = contracted_rates(ctx.plan)[(deal.oidx, ITEM_ROLE[int(li["item"])])]
            net = int(round(float(li["quantity"]) * 100)) * rate
            line.update(rate=float(rate), netamount=net / 100)
            if not pd.isna(line["taxcode"]):
                line.update(tax1amt=tax_cents(net, tax.rate) / 100)
        corrected.append(line)
    header = invoice_header(
        deal,
        rebill_id,
        at.date().replace(day=1),
        at,
        deal.currency if kind == "invoice_currency_mismatch" else CURRENCY_CODES[currency],
        ctx.rates,
        {deal.opp_id: created_from} if created_from is not None else {},
        set(),
        f"Rebill of {tranid}",
        trandate=at.date(),
    )
    header["otherrefnum"] = ref
    set_total(header, corrected, deal, at_header)
    batch.add(header, corrected)
    batch.flush(ctx.store)
    if status == "A":
        ctx.store.execute(
            "update ns_transaction set status = 'B', lastmodifieddate = ? where id = ?",
            [at, txn],
            table="ns_transaction",
        )
    if kind == "missing_tax_code":
        _resolve_invoice_tax(ctx, txn, at)
    else:
        ctx.truth.resolve(kind, "erp", record_id, at)
    return f"{kind} on {tranid}: credited ({memo_id}) and rebilled as {rebill_id}"


# --- reporting drift: changes to closed periods ------------------------------------------
def plant_backdated_invoice_edit(ctx: Ctx, at: datetime) -> str | None:
    """Someone edits an invoice line in a closed period (hours corrected after close)."""
    busy_lines = ctx.open_ids("missing_tax_code") | ctx.open_ids("invoice_rate_variance")
    busy_txn = ctx.open_ids("invoice_currency_mismatch")
    rows = ctx.store.rows(
        "select l.uniquekey, l.transaction, l.quantity::double, l.rate::double, t.tranid, "
        f"{_INVOICE_PROJECT} from ns_transactionline l join ns_transaction t on "
        f"t.id = l.transaction and t.type = 'CustInvc' and l.item <> {FIXED_FEE_ID} "
        "join ns_accountingperiod p on p.id = t.postingperiod "
        "where p.closed and p.closedondate < ? and l.linelastmodifieddate < p.closedondate "
        f"and l.taxcode is not null and {_NOT_CREDITED} order by l.uniquekey",
        [at],
    )
    rows = [r for r in rows if str(r[0]) not in busy_lines and str(r[1]) not in busy_txn]
    choice = ctx.pick(rows)
    if choice is None:
        return None
    uk, txn, qty, rate, tranid, project = choice
    new_qty = qty + 8.0 if ctx.rng.random() < 0.5 or qty <= 8 else qty - 4.0
    deal = _deal_of_project(ctx, project)
    net = int(round(new_qty * 100)) * int(round(rate * 100)) // 100
    tax = TAX_BY_COUNTRY[deal.country]
    ctx.store.execute(
        "update ns_transactionline set quantity = ?, netamount = ?, tax1amt = ?, "
        "linelastmodifieddate = ? where uniquekey = ?",
        [new_qty, net / 100, tax_cents(net, tax.rate) / 100, at, uk],
        table="ns_transactionline",
    )
    _retotal(ctx, txn, at)
    return f"{tranid} line {uk} edited after its period closed ({qty:g} -> {new_qty:g} h)"


def plant_backdated_time(ctx: Ctx, at: datetime) -> str | None:
    """An approved billable entry created after its period closed: it drifts the period
    and, never invoiced, is unbilled approved time too (both recorded)."""
    params = ctx.params
    closed = [
        (d, c)
        for d, c in ctx.store.rows(
            "select startdate, closedondate from ns_accountingperiod where closed and "
            "closedondate < ? order by startdate",
            [at],
        )
    ]
    deleted = set(ctx.store.json_meta("deleted_projects", []))
    busy = {int(p) for p in ctx.open_ids("project_without_contract")}
    a = ctx.plan.assignments.merge(ctx.plan.won[["oidx", "fixed_fee"]], on="oidx")
    a = a[~a["fixed_fee"] & ~a["project_id"].isin(list(deleted | busy))]
    options = []
    for start, _ in closed:
        end = month_end(start)
        hit = a[(a["start"] <= end) & (a["end"] >= start)]
        options += [(start, r) for r in hit.itertuples()]
    choice = ctx.pick(options)
    if choice is None:
        return None
    start, asg = choice
    lo, hi = max(start, asg.start), min(month_end(start), asg.end)
    days = [
        lo + timedelta(days=k)
        for k in range((hi - lo).days + 1)
        if (lo + timedelta(days=k)).weekday() < 5
    ]
    day = days[int(ctx.rng.integers(len(days)))]
    user = ctx.plan.users.iloc[asg.uidx]
    rate = contracted_rates(ctx.plan)[(asg.oidx, asg.role)]
    entry_id = ctx.store.next_ids("hv_time_entry", 1)[0]
    insert_with_names(
        ctx.store,
        ctx.params.conventions.harvest_invoice_prefix,
        "hv_time_entries",
        pd.DataFrame(
            [
                {
                    "id": entry_id,
                    "spent_date": day,
                    "hours": float(ctx.rng.integers(8, 25)) / 4,
                    "notes": "Late entry",
                    "is_closed": True,
                    "is_billed": False,
                    "billable": True,
                    "billable_rate": float(rate),
                    "cost_rate": float(user["cost_rate"]),
                    "user_id": int(user["hv_id"]),
                    "project_id": int(asg.project_id),
                    "task_id": TASK_IDS[asg.role],
                    "created_at": at,
                    "updated_at": at,
                }
            ]
        ),
    )
    visible = datetime.combine(month_end(start) + timedelta(days=params.grace_days + 1), time(0))
    ctx.truth.plant(
        "unbilled_approved_time",
        "psa",
        str(entry_id),
        max(at, visible),
        f"entry for {day} created after {start:%b %Y} closed",
        pending=True,
    )
    return f"time entry {entry_id} backdated to {day}"


# --- deletes -------------------------------------------------------------------------------
def delete_opportunity(ctx: Ctx, at: datetime) -> str | None:
    """Soft-delete a lost (or about to be lost) deal nobody refers to."""
    lost = set(ctx.plan.opps.loc[~ctx.plan.opps["won"], "sf_id"])
    rows = ctx.store.rows(
        "select Id from sf_opportunity where not IsDeleted and Id not in (select code from "
        "hv_projects where code is not null) order by Id"
    )
    choice = ctx.pick([r[0] for r in rows if r[0] in lost])
    if choice is None:
        return None
    ctx.store.execute(
        "update sf_opportunity set IsDeleted = true, LastModifiedDate = ?, "
        "SystemModstamp = ? where Id = ?",
        [at, at, choice],
        table="sf_opportunity",
    )
    ctx.store.execute(
        "update sf_opportunitylineitem set IsDeleted = true, LastModifiedDate = "
        "?, SystemModstamp = ? where OpportunityId = ?",
        [at, at, choice],
        table="sf_opportunitylineitem",
    )
    return f"opportunity {choice} deleted"


def delete_payment(ctx: Ctx, at: datetime) -> str | None:
    """A payment is deleted in NetSuite (keyed to the wrong invoice); the invoice reopens."""
    rows = ctx.store.rows(
        "select id, tranid from ns_transaction where type = 'CustPymt' order by id"
    )
    choice = ctx.pick(rows)
    if choice is None:
        return None
    pay_id, tranid = choice
    invoices = [
        i
        for (i,) in ctx.store.rows(
            "select previousdoc from ns_previoustransactionlinelink where nextdoc = ?", [pay_id]
        )
    ]
    ctx.store.execute(
        "delete from ns_previoustransactionlinelink where nextdoc = ?",
        [pay_id],
        table="ns_previoustransactionlinelink",
        kind="deleted",
    )
    _ns_delete(ctx, at, "ns_transaction", "customerpayment", pay_id, tranid)
    for inv in invoices:
        ctx.store.execute(
            "update ns_transaction set status = 'A', lastmodifieddate = ? where id = ?",
            [at, inv],
            table="ns_transaction",
        )
    return f"payment {tranid} deleted"


def delete_project(ctx: Ctx, at: datetime) -> str | None:
    """Delete a T&M project that has nothing billed and no part in the ground truth."""
    busy_entries = ctx.pending_entry_ids() | {
        int(i)
        for i in (
            ctx.open_ids("unbilled_approved_time") | ctx.open_ids("billed_time_missing_invoice")
        )
    }
    busy_projects = {int(p) for p in ctx.open_ids("project_without_contract")}
    tm = ctx.plan.won.loc[~ctx.plan.won["fixed_fee"], "project_id"].tolist()
    rows = ctx.store.rows(
        "select p.id from hv_projects p where list_contains(?, p.id) and not exists (select 1 "
        "from hv_time_entries e where e.project_id = p.id and (e.is_billed or "
        "list_contains(?, e.id))) order by p.id",
        [tm, sorted(busy_entries)],
    )
    choice = ctx.pick([r[0] for r in rows if r[0] not in busy_projects])
    if choice is None:
        return None
    for table in ("hv_time_entries", "hv_expenses"):
        ctx.store.execute(
            f"delete from {table} where project_id = ?", [choice], table=table, kind="deleted"
        )
    ctx.store.execute(
        "delete from hv_projects where id = ?", [choice], table="hv_projects", kind="deleted"
    )
    deleted = ctx.store.json_meta("deleted_projects", [])
    ctx.store.meta["deleted_projects"] = json.dumps(sorted({*deleted, choice}))
    return f"project {choice} deleted with its time entries"


# --- orchestration ---------------------------------------------------------------------------
def _moment(rng: np.random.Generator, lo: datetime, hi: datetime) -> datetime:
    """A business-hours moment in [lo, hi] (whole minutes)."""
    span = max(int((hi - lo).total_seconds() // 60), 1)
    for _ in range(50):
        t = lo + timedelta(minutes=int(rng.integers(span)))
        if 9 <= t.hour < 17:
            return t.replace(second=0, microsecond=0)
    return hi


def plant_history(store: Store, plan: Plan, truth: Truth, clock: datetime) -> list[str]:
    """Problems planted in the history at generate time (invoice-level ones come from
    billing). Counts scale with the firm; every class appears at least once."""
    params = plan.params
    ctx = Ctx(store, plan, truth, generator(params.seed, S_HISTORY), Rates(params, clock), memo={})
    rate = params.problem_rate
    start = datetime.combine(params.start_date, time(0))
    n_customers = len(plan.customers)
    n_won = int((plan.won["close_ts"] <= clock).sum())
    n_closed = int(store.scalar("select count(*) from ns_accountingperiod where closed"))
    out: list[str | None] = []
    for _ in range(max(1, round(n_customers * rate / 2))):
        out.append(
            plant_duplicate_account(
                ctx, _moment(ctx.rng, start + timedelta(days=30), clock - timedelta(days=1))
            )
        )
    for i in range(max(1, round(n_customers * rate / 2))):
        out.append(
            plant_duplicate_customer(
                ctx,
                _moment(ctx.rng, start + timedelta(days=60), clock - timedelta(days=90)),
                carry=i % 2 == 0,
            )
        )
    for i in range(max(1, round(n_won * rate))):
        out.append(
            plant_booking_drift(
                ctx,
                _moment(ctx.rng, start + timedelta(days=90), clock - timedelta(hours=4)),
                BOOKING_VARIANTS[i % len(BOOKING_VARIANTS)],
            )
        )
    for i in range(max(1, round(n_won * rate))):
        out.append(
            plant_project_code(
                ctx,
                _moment(ctx.rng, start + timedelta(days=60), clock),
                PROJECT_CODE_VARIANTS[i % len(PROJECT_CODE_VARIANTS)],
            )
        )
    first_close = datetime.combine(params.start_date, time(0)) + timedelta(days=45)
    for i in range(max(1, round(n_closed * 3 * rate))):
        at = _moment(ctx.rng, first_close, clock - timedelta(hours=4))
        out.append(
            plant_backdated_invoice_edit(ctx, at) if i % 2 == 0 else plant_backdated_time(ctx, at)
        )
    return [o for o in out if o]


@dataclass
class IncidentReport:
    fixed: list[str] = field(default_factory=list)
    planted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


MAX_FIX_ATTEMPTS = 60
ADVANCE_PLANTS = (
    "duplicate_account",
    "duplicate_customer",
    "booking_drift",
    "project_code",
    "missing_tax_code",
    "invoice_rate_variance",
    "invoice_currency_mismatch",
)


def incidents(store: Store, plan: Plan, truth: Truth, t2: datetime, number: int) -> IncidentReport:
    """What people and integrations do on the day the clock reaches t2: fix a few open
    problems, make a few new ones, delete one record per system, and (with problems on)
    change one closed period."""
    params = plan.params
    rng = generator(params.seed, S_ADVANCE, t2.toordinal())
    ctx = Ctx(store, plan, truth, rng, Rates(params, t2))
    report = IncidentReport()
    steps = [0]

    def at(*, tick: bool = True) -> datetime:
        """The next incident's moment: 19:00 of the new date, 20 seconds apart."""
        moment = datetime.combine(t2.date(), time(19)) + timedelta(seconds=20 * steps[0])
        steps[0] += tick
        return moment

    # Fixes first, on problems that existed before today; some can't be fixed any more
    # (an invoice in a closed period, a project created before its deal) and say so
    # without changing anything, so try a random order until enough have been fixed.
    fixable = _fixable(ctx)
    wanted = int(rng.integers(1, 4))
    for k in rng.permutation(len(fixable)).tolist()[:MAX_FIX_ATTEMPTS]:
        if len(report.fixed) >= wanted:
            break
        done = fixable[k](at(tick=False))
        if done:
            report.fixed.append(done)
            at()

    if params.problem_rate > 0:
        kinds = list(rng.choice(ADVANCE_PLANTS, size=int(rng.integers(1, 4)), replace=False))
        for kind in kinds:
            when = at()
            if kind == "duplicate_account":
                done = plant_duplicate_account(ctx, when)
            elif kind == "duplicate_customer":
                done = plant_duplicate_customer(ctx, when)
            elif kind == "booking_drift":
                done = plant_booking_drift(ctx, when, str(rng.choice(BOOKING_VARIANTS)))
            elif kind == "project_code":
                done = plant_project_code(ctx, when, str(rng.choice(PROJECT_CODE_VARIANTS[:4])))
            else:
                done = plant_open_invoice(ctx, when, kind)
            if done:
                report.planted.append(done)
        when = at()
        first, second = (
            (plant_backdated_invoice_edit, plant_backdated_time)
            if number % 2
            else (plant_backdated_time, plant_backdated_invoice_edit)
        )
        done = first(ctx, when) or second(ctx, when)
        if done:
            report.planted.append(done)

    for delete in (delete_opportunity, delete_payment, delete_project):
        done = delete(ctx, at())
        if done:
            report.deleted.append(done)
    return report


def _fixable(ctx: Ctx) -> list[Callable[[datetime], str | None]]:
    """One fix per open problem (or group); a fix returns None if it cannot apply."""
    out: list[Callable[[datetime], str | None]] = []
    for group in _duplicate_groups(ctx):
        out.append(lambda when, g=group: fix_duplicate(ctx, when, g))
    for opp_id in sorted(ctx.open_ids("booking_drift")):
        out.append(lambda when, o=opp_id: fix_booking(ctx, when, o))
    for pid in sorted(int(p) for p in ctx.open_ids("project_without_contract")):
        out.append(lambda when, p=pid: fix_project_code(ctx, when, p))
    unbilled = sorted(int(i) for i in ctx.open_ids("unbilled_approved_time"))
    if unbilled:
        for (pid,) in ctx.store.rows(
            "select distinct project_id from hv_time_entries where list_contains(?, id) order by 1",
            [unbilled],
        ):
            out.append(lambda when, p=pid: fix_unbilled(ctx, when, p))
    missing = sorted(int(i) for i in ctx.open_ids("billed_time_missing_invoice"))
    if missing:
        for (invoice_id,) in ctx.store.rows(
            "select distinct invoice_id from hv_time_entries where list_contains(?, id) order by 1",
            [missing],
        ):
            tranid = ids.erp_tranid(invoice_id)
            out.append(lambda when, t=tranid: fix_missing_invoice(ctx, when, t))
    for kind in ("missing_tax_code", "invoice_rate_variance", "invoice_currency_mismatch"):
        for rid in sorted(ctx.open_ids(kind), key=int):
            out.append(lambda when, k=kind, r=rid: fix_open_invoice(ctx, when, k, r))
    return out
