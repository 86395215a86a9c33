"""Month-end invoicing, payments and credit memos for one window of the story.

Invoice-level problems are planted here, while invoices are raised, because that is
where they happen in real life: time left off an invoice, an invoice that never reached
the ERP, a line without tax code, a rate typed wrong, a wrong currency. Which invoice
gets a problem is a keyed draw on (project, month), so a month is invoiced the same way
whether it is reached by `generate` or by `advance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from . import ids
from .erp import (
    CURRENCY_CODES,
    CURRENCY_IDS,
    ITEM_IDS,
    Rates,
    TxnBatch,
    credit_time,
    months_due,
    payment_plan,
    period_id,
    tax_cents,
    tax_for_country,
    total_of,
    tranids,
)
from .params import ENTITY_BY_ID, FIXED_FEE_ITEM, INVOICE_LAG_DAYS, add_months, month_end
from .plan import Plan
from .psa import LOCKED_INVOICED, TASK_ROLE
from .rand import (
    S_INVOICE_MINUTE,
    S_INVOICE_PLANT,
    S_INVOICE_PLANT_KIND,
    S_INVOICE_PLANT_PICK,
    uniform,
    uniform1,
)
from .store import Store
from .tenants import Conventions
from .truth import Truth

INVOICE_PLANTS = (
    "unbilled_approved_time",
    "billed_time_missing_invoice",
    "missing_tax_code",
    "invoice_rate_variance",
    "invoice_currency_mismatch",
)
RATE_FACTORS = (0.9, 0.95, 1.05, 1.1)


@dataclass
class Deal:
    """What billing needs to know about a won deal and its customer."""

    oidx: int
    opp_id: str
    project_id: int
    name: str
    entity: int
    currency: str
    customer: int
    country: str
    fixed_fee: bool
    amount_cents: int
    start: date
    end: date


def deals_by_project(plan: Plan) -> dict[int, Deal]:
    """Won deals by PSA project id (built once per plan)."""
    if "_deals" in plan.cache:
        return plan.cache["_deals"]
    c = plan.customers.set_index("cidx")
    out = {}
    for o in plan.won.itertuples():
        out[int(o.project_id)] = Deal(
            int(o.oidx),
            o.sf_id,
            int(o.project_id),
            o.name,
            int(o.entity),
            o.currency,
            int(c.at[o.cidx, "ns_id"]),
            c.at[o.cidx, "country"],
            bool(o.fixed_fee),
            int(o.amount_cents),
            o.start,
            o.end,
        )
    plan.cache["_deals"] = out
    return out


def contracted_rates(plan: Plan) -> dict[tuple[int, str], int]:
    """The won opportunity's UnitPrice per (opportunity, role): the contracted rate."""
    if "_rates" not in plan.cache:
        plan.cache["_rates"] = {
            (int(o), r): int(p)
            for o, r, p in zip(
                plan.lines["oidx"], plan.lines["role"], plan.lines["unit_price"], strict=True
            )
        }
    return plan.cache["_rates"]


def wrong_currency(deal: Deal) -> str:
    """The currency a careless biller picks: the entity's own, or USD if that was it."""
    functional = ENTITY_BY_ID[deal.entity].currency
    if deal.currency != functional:
        return functional
    return "USD" if functional != "USD" else "GBP"


def invoice_header(
    deal: Deal,
    tranid: str,
    month: date,
    created: datetime,
    currency: str,
    rates: Rates,
    so_ref: dict[str, int],
    batch_so: set[str],
    memo: str,
    trandate: date | None = None,
) -> dict:
    conv = rates.params.conventions
    trandate = trandate or (created.date() if conv.invoice_dated_when_raised else month_end(month))
    pid = period_id(rates.params, trandate)
    header = {
        "key": f"INV:{tranid}",
        "tranid": tranid,
        "type": "CustInvc",
        "trandate": trandate,
        "duedate": trandate + timedelta(days=30),
        "postingperiod": pid,
        "entity": deal.customer,
        "subsidiary": deal.entity,
        "currency": CURRENCY_IDS[currency],
        "exchangerate": rates.exchangerate(pid, currency, deal.entity),
        "status": "A",
        "memo": memo,
        "custbody_sf_opportunity_id": deal.opp_id if conv.invoice_header_deal else None,
        "otherrefnum": (
            conv.harvest_invoice_number(tranid) if conv.invoice_number_in_otherrefnum else None
        ),
        "createddate": created,
        "lastmodifieddate": created,
    }
    if deal.opp_id in so_ref:
        header["createdfrom"] = so_ref[deal.opp_id]
    elif deal.opp_id in batch_so:
        header["createdfrom_key"] = f"SO:{deal.opp_id}"
    return header


def line_tax(deal: Deal, net_cents: int, at_header: bool) -> dict:
    """A line's tax fields: the customer's tax code and the tax on the line, or, where the
    entity carries tax on the header, only that the line is taxable."""
    if at_header:
        return {"taxcode": None, "tax1amt": None, "istaxable": True}
    tax_id, tax_rate = tax_for_country(deal.country)
    return {"taxcode": tax_id, "tax1amt": tax_cents(net_cents, tax_rate) / 100}


def invoice_lines(
    deal: Deal, by_role: list[tuple[str, float, int]], at_header: bool = False
) -> list[dict]:
    """Lines from (role, hours, rate) with the customer's tax code (none when the entity
    carries tax on the header)."""
    out = []
    for role, hours, rate in by_role:
        net = int(round(hours * 100)) * rate
        out.append(
            {
                "item": ITEM_IDS[role],
                "memo": role.replace("_", " ").title(),
                "quantity": hours,
                "rate": float(rate),
                "netamount": net / 100,
                **line_tax(deal, net, at_header),
                "custcol_psa_project_id": str(deal.project_id),
            }
        )
    return out


def set_total(
    header: dict, lines: list[dict], deal: Deal, at_header: bool, *, taxed: bool = True
) -> None:
    """The invoice's foreigntotal from its lines; where the entity carries tax on the
    header, its tax item and tax total too (none when `taxed` is False: no tax code)."""
    if not at_header:
        header["foreigntotal"] = total_of(lines)
        return
    tax_id, tax_rate = tax_for_country(deal.country)
    base = sum(int(round(li["netamount"] * 100)) for li in lines if li.get("istaxable"))
    tax = int(tax_cents(base, tax_rate)) if taxed else 0
    header.update(taxitem=tax_id if taxed else None, taxtotal=tax / 100)
    header["foreigntotal"] = round(sum(li["netamount"] for li in lines) + tax / 100, 2)


def _candidates(
    store: Store, plan: Plan, new_entries: pd.DataFrame, months: list[date], tm_projects: np.ndarray
) -> pd.DataFrame:
    """Approved, billable, unbilled time on T&M projects spent in the months to invoice.

    Months are integers (months since 1970-01): a column of a million date objects would
    cost more than the rest of the frame.
    """
    lo, hi = months[0], month_end(months[-1])
    wanted = np.array([month_number(m) for m in months])
    cols = ["id", "project_id", "task_id", "hours", "month"]
    parts = []
    db = store.df(
        "select id, project_id, task_id, cast(hours as double) as hours, spent_date "
        "from hv_time_entries where is_closed and billable and not is_billed "
        "and spent_date between ? and ? order by id",
        [lo, hi],
    )
    if len(db):
        db["month"] = db["spent_date"].to_numpy().astype("datetime64[M]").astype(np.int64)
        parts.append(db[cols])
    if len(new_entries):
        n = new_entries
        month = n["spent_date"].to_numpy().astype("datetime64[M]").astype(np.int64)
        sel = (
            n["is_closed"].to_numpy()
            & n["billable"].to_numpy()
            & ~n["is_billed"].to_numpy()
            & np.isin(month, wanted)
        )
        parts.append(
            pd.DataFrame({c: (month if c == "month" else n[c].to_numpy())[sel] for c in cols})
        )
    if not parts:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in cols})
    e = (
        parts[0]
        if len(parts) == 1
        else pd.concat(parts, ignore_index=True).sort_values("id", ignore_index=True)
    )
    keep = np.isin(e["project_id"].to_numpy(), tm_projects) & np.isin(e["month"].to_numpy(), wanted)
    return e[keep].reset_index(drop=True)


def month_number(d: date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def month_date(n: int) -> date:
    return date(1970 + n // 12, n % 12 + 1, 1)


def _choose_plants(
    plan: Plan, keys: pd.DataFrame, rate: float, force_min: bool, clock: datetime
) -> dict[tuple[int, date], str]:
    seed = plan.params.seed
    if rate <= 0 or len(keys) == 0:
        return {}
    month_ord = np.array([m.toordinal() for m in keys["month"]])
    project = keys["project_id"].to_numpy()
    u = uniform(seed, S_INVOICE_PLANT, project, month_ord)
    kind = (uniform(seed, S_INVOICE_PLANT_KIND, project, month_ord) * len(INVOICE_PLANTS)).astype(
        int
    )
    chosen = {}
    for i in np.nonzero(u < rate)[0]:
        chosen[(int(project[i]), keys["month"].iat[i])] = INVOICE_PLANTS[kind[i]]
    if force_min:
        grace = plan.params.grace_days
        for name in INVOICE_PLANTS:
            if name in chosen.values():
                continue
            ok = [
                i
                for i in np.argsort(u, kind="stable")
                if (int(project[i]), keys["month"].iat[i]) not in chosen
                and (
                    name != "unbilled_approved_time"
                    or month_end(keys["month"].iat[i]) + timedelta(days=grace) < clock.date()
                )
            ]
            if ok:
                chosen[(int(project[ok[0]]), keys["month"].iat[ok[0]])] = name
    return chosen


def invoice_window(
    store: Store,
    plan: Plan,
    batch: TxnBatch,
    rates: Rates,
    truth: Truth,
    t1: datetime | None,
    t2: datetime,
    new_entries: pd.DataFrame,
    deleted_projects: set[int],
    *,
    force_min: bool,
) -> pd.DataFrame:
    """Raise the invoices of every service month whose invoicing day is in (t1, t2].

    Returns the billed entries (id, Harvest invoice_id, billed_at); the caller
    marks them billed, in memory for new entries and in the table for older ones.
    """
    params = plan.params
    months = months_due(params, t1, t2)
    empty = pd.DataFrame(columns=["id", "invoice_id", "billed_at"])
    if not months:
        return empty
    deals = deals_by_project(plan)
    rates_of = contracted_rates(plan)
    tm = np.array([p for p, d in deals.items() if not d.fixed_fee], dtype=np.int64)
    entries = _candidates(store, plan, new_entries, months, tm)
    keys = entries[["project_id", "month"]].drop_duplicates().reset_index(drop=True)
    keys["month"] = [month_date(int(m)) for m in keys["month"]]
    plants = _choose_plants(plan, keys, params.problem_rate, force_min, t2)
    so_ref = dict(
        store.rows(
            "select custbody_sf_opportunity_id, id from ns_transaction where type = 'SalesOrd'"
        )
    )
    batch_so = {h["custbody_sf_opportunity_id"] for h in batch.headers if h["type"] == "SalesOrd"}

    # Time left off its invoice (planted): chosen among the entries of the invoice.
    planted_entries: dict[tuple[int, date], np.ndarray] = {}
    if plants:
        planted_keys = pd.MultiIndex.from_tuples([(p, month_number(m)) for p, m in plants])
        on_key = pd.MultiIndex.from_arrays([entries["project_id"], entries["month"]])
        sub = entries[on_key.isin(planted_keys)]
        planted_entries = {
            (int(k[0]), month_date(int(k[1]))): g["id"].to_numpy()
            for k, g in sub.groupby(["project_id", "month"])
        }
    left: dict[tuple[int, date], np.ndarray] = {}
    for key, plant in sorted(plants.items()):
        if plant != "unbilled_approved_time":
            continue
        ids_ = planted_entries[key]
        pick = uniform(params.seed, S_INVOICE_PLANT_PICK, ids_)
        left[key] = np.sort(ids_[np.argsort(pick, kind="stable")[: 1 + int(pick.min() * 1000) % 3]])
    if left:
        entries = entries[~entries["id"].isin(np.concatenate(list(left.values())))]
        for key, ids_ in left.items():
            planted_entries[key] = np.setdiff1d(planted_entries[key], ids_)

    # One spec per invoice to raise: T&M per (project, month), fixed-fee instalments.
    tm_keys = entries[["project_id", "month"]].drop_duplicates()
    spec_project = tm_keys["project_id"].to_numpy().tolist()
    spec_month = [month_date(int(m)) for m in tm_keys["month"]]
    spec_kind = ["tm"] * len(spec_project)
    for deal in deals.values():
        if deal.fixed_fee and deal.project_id not in deleted_projects:
            first = deal.start.replace(day=1)
            for month in months:
                if first <= month <= deal.end:
                    spec_project.append(deal.project_id)
                    spec_month.append(month)
                    spec_kind.append("ff")
    created = invoice_times(params, spec_project, spec_month)
    order = sorted(range(len(spec_project)), key=lambda i: (created[i], spec_project[i]))
    numbers = tranids(store, "CustInvc", len(order))
    tranid_of = {
        (spec_project[i], spec_month[i], spec_kind[i]): n
        for i, n in zip(order, numbers, strict=True)
    }
    created_of = {(spec_project[i], spec_month[i]): created[i] for i in order}

    # Ground truth for left-off time, once its month is past the grace period.
    grace = timedelta(days=params.grace_days)
    for (project, month), ids_ in left.items():
        tranid = tranid_of.get((project, month, "tm"), "no invoice")
        visible = datetime.combine(month_end(month) + grace + timedelta(days=1), time(0))
        for entry_id in ids_.tolist():
            truth.plant(
                "unbilled_approved_time",
                "psa",
                str(entry_id),
                visible,
                f"left off {tranid} ({month:%b %Y}) for project {project}",
                pending=True,
            )

    hours = entries.groupby(["project_id", "month", "task_id"], sort=True)["hours"].sum()
    by_key: dict[tuple[int, date], list[tuple[str, float, int]]] = {}
    for (project, month, task), h in hours.items():
        role = TASK_ROLE[int(task)]
        by_key.setdefault((int(project), month_date(int(month))), []).append(
            (role, float(h), rates_of[(deals[int(project)].oidx, role)])
        )

    for i in order:
        project, month, kind = spec_project[i], spec_month[i], spec_kind[i]
        deal, tranid, when = deals[project], tranid_of[(project, month, kind)], created[i]
        if kind == "ff":
            _fixed_fee_invoice(batch, deal, tranid, month, when, rates, so_ref, batch_so)
        else:
            _tm_invoice(
                plan,
                batch,
                truth,
                deal,
                tranid,
                month,
                when,
                by_key[(project, month)],
                plants.get((project, month)),
                rates,
                so_ref,
                batch_so,
                planted_entries.get((project, month)),
            )

    invoices = pd.DataFrame(
        [
            (p, month_number(m), ids.harvest_invoice_id(tranid_of[(p, m, k)]), created_of[(p, m)])
            for p, m, k in zip(spec_project, spec_month, spec_kind, strict=True)
            if k == "tm"
        ],
        columns=["project_id", "month", "invoice_id", "billed_at"],
    )
    billed = entries[["id", "project_id", "month"]].merge(invoices, on=["project_id", "month"])
    return billed[["id", "invoice_id", "billed_at"]].sort_values("id", ignore_index=True)


def invoice_times(params, projects: list[int], months: list[date]) -> list[datetime]:
    """`invoice_time` for many invoices at once."""
    if not projects:
        return []
    ords = np.array([m.toordinal() for m in months])
    minutes = (uniform(params.seed, S_INVOICE_MINUTE, np.array(projects), ords) * 120).astype(
        np.int64
    )
    return [
        datetime.combine(month_end(m) + timedelta(days=INVOICE_LAG_DAYS), time(9))
        + timedelta(minutes=int(k))
        for m, k in zip(months, minutes, strict=True)
    ]


def _tm_invoice(
    plan: Plan,
    batch: TxnBatch,
    truth: Truth,
    deal: Deal,
    tranid: str,
    month: date,
    created: datetime,
    by_role: list[tuple[str, float, int]],
    plant: str | None,
    rates: Rates,
    so_ref: dict[str, int],
    batch_so: set[str],
    entry_ids: np.ndarray | None,
) -> None:
    """A time-and-materials invoice, with its planted problem if it has one."""
    seed = plan.params.seed
    if plant == "billed_time_missing_invoice":
        for entry_id in sorted(entry_ids.tolist()):
            truth.plant(
                plant,
                "psa",
                str(entry_id),
                created,
                f"billed on {tranid}, which never reached the ERP",
            )
        return
    at_header = plan.params.conventions.header_tax(deal.entity)
    lines = invoice_lines(deal, by_role, at_header)
    currency = deal.currency
    pick = (
        0
        if plant is None
        else int(uniform1(seed, S_INVOICE_PLANT_PICK, deal.project_id, month.toordinal()) * 1000)
    )
    target = pick % len(lines)
    note = ""
    if plant == "missing_tax_code" and at_header:
        note = f"{tranid}: no tax item on the header"
    elif plant == "missing_tax_code":
        lines[target].update(taxcode=None, tax1amt=0.0)
        note = f"{tranid} line {target + 1}: no tax code"
    elif plant == "invoice_rate_variance":
        old = int(lines[target]["rate"])
        new = int(round(old * RATE_FACTORS[pick % len(RATE_FACTORS)]))
        net = int(round(lines[target]["quantity"] * 100)) * new
        lines[target].update(rate=float(new), netamount=net / 100, **line_tax(deal, net, at_header))
        note = f"{tranid} line {target + 1}: rate {new} instead of contracted {old}"
    elif plant == "invoice_currency_mismatch":
        currency = wrong_currency(deal)
        note = f"{tranid} in {currency}, deal in {deal.currency}"
    header = invoice_header(
        deal,
        tranid,
        month,
        created,
        currency,
        rates,
        so_ref,
        batch_so,
        f"Time and materials {month:%b %Y}",
    )
    set_total(header, lines, deal, at_header, taxed=plant != "missing_tax_code")
    batch.add(header, lines)
    if plant == "invoice_currency_mismatch":
        truth.plant_on_flush(plant, "erp", header["key"], None, created, note)
    elif plant == "missing_tax_code" and at_header:
        # no tax item on the header: every taxable line has no tax code
        for line_no in range(1, len(lines) + 1):
            truth.plant_on_flush(plant, "erp", header["key"], line_no, created, note)
    elif plant in ("missing_tax_code", "invoice_rate_variance"):
        truth.plant_on_flush(plant, "erp", header["key"], target + 1, created, note)


def _fixed_fee_invoice(
    batch: TxnBatch,
    deal: Deal,
    tranid: str,
    month: date,
    created: datetime,
    rates: Rates,
    so_ref: dict[str, int],
    batch_so: set[str],
) -> None:
    months = []
    m = deal.start.replace(day=1)
    while m <= deal.end:
        months.append(m)
        m = add_months(m, 1)
    n = len(months)
    k = months.index(month)
    share = deal.amount_cents // n
    cents = deal.amount_cents - share * (n - 1) if k == n - 1 else share
    at_header = rates.params.conventions.header_tax(deal.entity)
    line = {
        "item": ITEM_IDS[FIXED_FEE_ITEM],
        "memo": f"Instalment {k + 1} of {n}",
        "quantity": 1.0,
        "rate": cents / 100,
        "netamount": cents / 100,
        **line_tax(deal, cents, at_header),
        "custcol_psa_project_id": str(deal.project_id),
    }
    header = invoice_header(
        deal,
        tranid,
        month,
        created,
        deal.currency,
        rates,
        so_ref,
        batch_so,
        f"Fixed fee {month.strftime('%b %Y')}",
    )
    set_total(header, [line], deal, at_header)
    batch.add(header, [line])


@dataclass
class OpenInvoice:
    """An invoice that can still be paid or credited: in the table (`ref` is its id) or
    raised in this window (`ref` is its batch key)."""

    in_table: bool
    ref: int | str
    tranid: str
    trandate: date
    entity: int
    subsidiary: int
    currency: int
    total: float

    def link_from(self) -> dict:
        return {"previousdoc": self.ref} if self.in_table else {"previousdoc_key": self.ref}


LINE_FIELDS = (
    "item",
    "memo",
    "quantity",
    "rate",
    "netamount",
    "taxcode",
    "tax1amt",
    "istaxable",
    "custcol_psa_project_id",
)


def settle_window(
    store: Store,
    plan: Plan,
    batch: TxnBatch,
    rates: Rates,
    t1: datetime | None,
    t2: datetime,
    truth: Truth,
) -> None:
    """Payments and credit memos falling in (t1, t2], for old and new open invoices.

    Whether and when an invoice is paid or credited is a keyed draw on its number, so it
    does not depend on the window; an invoice whose payment was deleted stays open. An
    invoice carrying an open planted problem is not credited (a credit would void it, and
    the problem with it).
    """
    db = store.df(
        "select id, tranid, trandate, entity, subsidiary, currency, "
        "cast(foreigntotal as double) as total from ns_transaction "
        "where type = 'CustInvc' and status = 'A' order by id"
    )
    invoices = [
        OpenInvoice(
            True,
            int(r.id),
            r.tranid,
            r.trandate,
            int(r.entity),
            int(r.subsidiary),
            int(r.currency),
            float(r.total),
        )
        for r in db.itertuples()
    ]
    new = {h["key"]: h for h in batch.headers if h["type"] == "CustInvc" and h["status"] == "A"}
    invoices += [
        OpenInvoice(
            False,
            h["key"],
            h["tranid"],
            h["trandate"],
            h["entity"],
            h["subsidiary"],
            h["currency"],
            h["foreigntotal"],
        )
        for h in new.values()
    ]
    if not invoices:
        return
    numbers = np.array([int(i.tranid.removeprefix("INV")) for i in invoices])
    trandates = np.array([np.datetime64(i.trandate, "D") for i in invoices])
    paid, pay_ts, credited = payment_plan(plan.params.seed, numbers, trandates)
    lo = np.datetime64(t1, "s") if t1 else np.datetime64("1900-01-01", "s")
    hi = np.datetime64(t2, "s")

    def in_window(ts: datetime | np.datetime64) -> bool:
        return bool(lo < np.datetime64(ts, "s") <= hi)

    settled: list[tuple[OpenInvoice, datetime]] = []
    planted = truth.invoices_with_open_problems()
    credits = [
        invoices[k]
        for k in np.nonzero(credited)[0]
        if in_window(credit_time(invoices[k].trandate)) and invoices[k].ref not in planted
    ]
    new_lines: dict[str, list[dict]] = {}
    for li in batch.lines:
        new_lines.setdefault(li["txn_key"], []).append({f: li.get(f) for f in LINE_FIELDS})
    for inv, tranid in zip(credits, tranids(store, "CustCred", len(credits)), strict=True):
        at = credit_time(inv.trandate)
        lines = (
            new_lines[inv.ref]
            if not inv.in_table
            else store.df(
                f"select {', '.join(LINE_FIELDS)} from ns_transactionline where transaction = ? "
                "order by id",
                [inv.ref],
            ).to_dict("records")
        )
        settle(batch, rates, inv, "CustCred", tranid, at, "B", f"Credit for {inv.tranid}", lines)
        settled.append((inv, at))

    payments = sorted(
        (k for k in np.nonzero(paid)[0] if in_window(pay_ts[k])),
        key=lambda k: (pay_ts[k], numbers[k]),
    )
    for k, tranid in zip(payments, tranids(store, "CustPymt", len(payments)), strict=True):
        at = pd.Timestamp(pay_ts[k]).to_pydatetime()
        settle(
            batch,
            rates,
            invoices[k],
            "CustPymt",
            tranid,
            at,
            "C",
            f"Payment for {invoices[k].tranid}",
            None,
        )
        settled.append((invoices[k], at))

    for inv, at in settled:
        if not inv.in_table:
            new[inv.ref].update(status="B", lastmodifieddate=at)
    store.update(
        "ns_transaction",
        pd.DataFrame(
            [
                {"id": inv.ref, "status": "B", "lastmodifieddate": at}
                for inv, at in settled
                if inv.in_table
            ]
        ),
        ["id"],
        ["status", "lastmodifieddate"],
    )


def settle(
    batch: TxnBatch,
    rates: Rates,
    inv: OpenInvoice,
    txn_type: str,
    tranid: str,
    at: datetime,
    status: str,
    memo: str,
    lines: list[dict] | None,
) -> None:
    """A payment or credit memo for the whole of `inv`, linked to it."""
    pid = period_id(rates.params, at.date())
    key = f"{txn_type}:{tranid}"
    header = {
        "key": key,
        "tranid": tranid,
        "type": txn_type,
        "trandate": at.date(),
        "postingperiod": pid,
        "entity": inv.entity,
        "subsidiary": inv.subsidiary,
        "currency": inv.currency,
        "exchangerate": rates.exchangerate(pid, CURRENCY_CODES[inv.currency], inv.subsidiary),
        "foreigntotal": inv.total,
        "status": status,
        "memo": memo,
        "createddate": at,
        "lastmodifieddate": at,
    }
    if txn_type == "CustCred":
        header.update({"createdfrom": inv.ref} if inv.in_table else {"createdfrom_key": inv.ref})
    batch.add(header, lines)
    batch.links.append(
        {
            **inv.link_from(),
            "previousline": 0,
            "nextdoc_key": key,
            "nextline": 0,
            "linktype": "Payment",
            "foreignamount": inv.total,
            "lastmodifieddate": at,
        }
    )


def mark_billed(
    store: Store, conv: Conventions, new_entries: pd.DataFrame, billed: pd.DataFrame
) -> pd.DataFrame:
    """Mark billed entries: new ones in the frame, older ones in the table. The invoice
    number is the ERP tranid the Harvest invoice id is derived from (ids.harvest_invoice_id),
    as the firm's Harvest shows it (Conventions.harvest_invoice_number).
    """
    if len(billed) == 0:
        return new_entries
    bid = billed["id"].to_numpy()
    if len(new_entries):
        ids_ = new_entries["id"].to_numpy()  # ascending: ids are assigned in order
        pos = np.minimum(np.searchsorted(ids_, bid), len(ids_) - 1)
        hit = ids_[pos] == bid
        at = pos[hit]
        is_billed = new_entries["is_billed"].to_numpy().copy()
        is_billed[at] = True
        invoice = new_entries["invoice_id"].to_numpy(dtype=np.float64, na_value=np.nan)
        invoice[at] = billed["invoice_id"].to_numpy()[hit]
        updated = new_entries["updated_at"].to_numpy().copy()
        updated[at] = billed["billed_at"].to_numpy().astype(updated.dtype)[hit]
        new_entries["is_billed"] = is_billed
        new_entries["invoice_id"] = pd.array(invoice, dtype="Int64")
        new_entries["updated_at"] = updated
        old = billed[~hit]
    else:
        old = billed
    if len(old):
        upd = old.rename(columns={"billed_at": "updated_at"}).assign(
            is_billed=True,
            is_locked=True,
            locked_reason=LOCKED_INVOICED,
            invoice_number=[
                conv.harvest_invoice_number(ids.erp_tranid(i)) for i in old["invoice_id"]
            ],
        )
        store.update(
            "hv_time_entries",
            upd,
            ["id"],
            [
                "is_billed",
                "is_locked",
                "locked_reason",
                "invoice_id",
                "invoice_number",
                "updated_at",
            ],
        )
    return new_entries
