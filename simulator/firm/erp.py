"""NetSuite: reference data, periods and rates, and the transactions of a time window.

New transactions of a window are collected in a `TxnBatch` first and get their internal
ids only when the batch is flushed, in creation order across all types — as NetSuite
numbers them — while document numbers (tranid) come from one sequence per type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from . import ids
from .params import (
    CURRENCY_IDS,
    CURRENCY_NAMES,
    ENTITIES,
    ENTITY_BY_ID,
    FIXED_FEE_ITEM,
    FX_START,
    INVOICE_LAG_DAYS,
    PERIOD_CLOSE_DAYS,
    ROLES,
    TAX_BY_COUNTRY,
    TAX_CODES,
    FirmParams,
    add_months,
    month_end,
)
from .rand import S_CREDIT, S_FX, S_PAYMENT, S_PAYMENT_DAYS, generator, uniform
from .store import Store
from .tenants import Conventions

ITEM_IDS = {r.code: ids.NS_ITEM + i for i, r in enumerate(ROLES)}
ITEM_IDS[FIXED_FEE_ITEM] = ids.NS_ITEM + len(ROLES)
CURRENCY_CODES = {v: k for k, v in CURRENCY_IDS.items()}
TYPE_ORDER = {"SalesOrd": 0, "CustInvc": 1, "CustCred": 2, "CustPymt": 3}
PAID_SHARE = 0.92
CREDIT_SHARE = 0.02
CREDIT_AFTER_DAYS = 20
LONG_AGO = timedelta(days=1500)


def _ref_time(params: FirmParams) -> datetime:
    return datetime.combine(params.start_date, time(0)) - LONG_AGO


def subsidiaries(params: FirmParams) -> pd.DataFrame:
    at = _ref_time(params)
    return pd.DataFrame(
        [
            {
                "id": e.id,
                "name": e.name,
                "country": e.country,
                "currency": CURRENCY_IDS[e.currency],
                "parent": None if e.id == 1 else 1,
                "iselimination": False,
                "lastmodifieddate": at,
            }
            for e in ENTITIES
        ]
    )


def currencies(params: FirmParams) -> pd.DataFrame:
    at = _ref_time(params)
    return pd.DataFrame(
        [
            {
                "id": i,
                "symbol": c,
                "name": CURRENCY_NAMES[c],
                "isbasecurrency": c == "USD",
                "lastmodifieddate": at,
            }
            for c, i in CURRENCY_IDS.items()
        ]
    )


def items(params: FirmParams) -> pd.DataFrame:
    at = _ref_time(params)
    itemid = params.conventions.erp_items
    rows = [
        {
            "id": ITEM_IDS[r.code],
            "itemid": itemid[r.code],
            "displayname": f"{r.name} services",
            "itemtype": "Service",
            "isinactive": False,
            "lastmodifieddate": at,
        }
        for r in ROLES
    ]
    rows.append(
        {
            "id": ITEM_IDS[FIXED_FEE_ITEM],
            "itemid": itemid[FIXED_FEE_ITEM],
            "displayname": "Fixed fee instalment",
            "itemtype": "Service",
            "isinactive": False,
            "lastmodifieddate": at,
        }
    )
    return pd.DataFrame(rows)


def tax_items(params: FirmParams) -> pd.DataFrame:
    at = _ref_time(params)
    return pd.DataFrame(
        [
            {
                "id": t.id,
                "itemid": t.itemid,
                "name": t.name,
                "rate": t.rate,
                "country": t.country,
                "description": t.name,
                "isinactive": False,
                "lastmodifieddate": at,
            }
            for t in TAX_CODES
        ]
    )


def customers(params: FirmParams, customers_plan: pd.DataFrame) -> pd.DataFrame:
    c = customers_plan
    ns_ids = c["ns_id"].to_numpy()
    created = c["created"] + timedelta(days=1)
    return pd.DataFrame(
        {
            "id": c["ns_id"],
            "entityid": "C" + c["ns_id"].astype(str),
            "companyname": c["name"],
            "externalid": np.where(c["external_missing"], None, c["sf_id"]),
            "parent": [ns_ids[p] if p >= 0 else None for p in c["parent"]],
            "subsidiary": c["entity"],
            "currency": c["currency"].map(CURRENCY_IDS),
            "email": "ap@" + c["base"].str.lower().str.replace(" ", "", regex=False) + ".example",
            "custentity_billing_country": (
                c["country"] if params.conventions.customer_country_field else None
            ),
            "isinactive": False,
            "datecreated": created,
            "lastmodifieddate": created,
        }
    )


# --- periods and exchange rates ----------------------------------------------------
def period_id(params: FirmParams, d: date) -> int:
    s = params.start_date
    return ids.NS_PERIOD + (d.year - s.year) * 12 + d.month - s.month


def closed_on(month_start: date) -> datetime:
    return datetime.combine(month_end(month_start) + timedelta(days=PERIOD_CLOSE_DAYS), time(18))


def fx_walk(params: FirmParams, n_periods: int) -> dict[str, np.ndarray]:
    """USD per unit of GBP and EUR per period: a mean-reverting walk (prefix-stable)."""
    g = generator(params.seed, S_FX)
    out = {c: np.empty(max(n_periods, 1)) for c in FX_START}
    level = {c: np.log(v) for c, v in FX_START.items()}
    for k in range(max(n_periods, 1)):
        for c, start in FX_START.items():
            level[c] += 0.15 * (np.log(start) - level[c]) + g.normal(0, 0.012)
            out[c][k] = np.exp(level[c])
    return out


def periods_and_rates(params: FirmParams, clock: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounting periods from the start month to the clock's month, and their rates."""
    months = []
    m = params.start_date
    while m <= clock.date():
        months.append(m)
        m = add_months(m, 1)
    walk = fx_walk(params, len(months))
    periods, rates = [], []
    for k, m in enumerate(months):
        opened = datetime.combine(m, time(0))
        closes = closed_on(m)
        closed = closes <= clock
        periods.append(
            {
                "id": ids.NS_PERIOD + k,
                "periodname": m.strftime("%b %Y"),
                "startdate": m,
                "enddate": month_end(m),
                "closed": closed,
                "closedondate": closes if closed else None,
                "isquarter": False,
                "isyear": False,
                "isadjust": False,
                "lastmodifieddate": closes if closed else opened,
            }
        )
        for j, (sub, cur) in enumerate(((2, "GBP"), (3, "EUR"))):
            avg = round(float(walk[cur][k]), 6)
            current = round(avg * (1 + 0.004 * np.sin(k * 1.7 + j)), 6)
            rates.append(
                {
                    "id": 2 * k + j + 1,
                    "postingperiod": ids.NS_PERIOD + k,
                    "fromsubsidiary": sub,
                    "tosubsidiary": 1,
                    "fromcurrency": CURRENCY_IDS[cur],
                    "tocurrency": 1,
                    "averagerate": avg,
                    "currentrate": current,
                    "historicalrate": round((avg + current) / 2, 6),
                    "lastmodifieddate": opened,
                }
            )
    return pd.DataFrame(periods), pd.DataFrame(rates)


class Rates:
    """Average rates per period, and the transaction exchange rate derived from them."""

    def __init__(self, params: FirmParams, clock: datetime) -> None:
        self.params = params
        _, rates = periods_and_rates(params, clock)
        self.usd = {
            (int(r.postingperiod), CURRENCY_CODES[int(r.fromcurrency)]): float(r.averagerate)
            for r in rates.itertuples()
        }

    def to_usd(self, period: int, currency: str) -> float:
        return 1.0 if currency == "USD" else self.usd[(period, currency)]

    def exchangerate(self, period: int, currency: str, subsidiary: int) -> float:
        """Transaction currency -> subsidiary functional currency, cross via USD, 6 dp."""
        functional = ENTITY_BY_ID[subsidiary].currency
        return round(self.to_usd(period, currency) / self.to_usd(period, functional), 6)


# --- transaction batches -------------------------------------------------------------
@dataclass
class TxnBatch:
    """New transactions of one window, linked by keys until ids are assigned."""

    headers: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    line_keys: pd.DataFrame | None = None
    """(txn_key, line id, uniquekey) of the lines written by `flush`."""

    def add(self, header: dict, lines: list[dict] | None = None) -> None:
        self.headers.append(header)
        for i, line in enumerate(lines or [], start=1):
            self.lines.append(
                {
                    **line,
                    "txn_key": header["key"],
                    "id": i,
                    "linesequencenumber": i,
                    "mainline": False,
                    "subsidiary": header["subsidiary"],
                    "linelastmodifieddate": header["createddate"],
                }
            )

    def flush(self, store: Store) -> dict[str, int]:
        """Assign ids in creation order and write headers, lines and links."""
        if not self.headers:
            return {}
        h = pd.DataFrame(self.headers)
        h["_order"] = h["type"].map(TYPE_ORDER)
        h = h.sort_values(["createddate", "_order", "tranid"], kind="stable", ignore_index=True)
        h["id"] = list(store.next_ids("ns_transaction", len(h)))
        key_to_id = dict(zip(h["key"], h["id"], strict=True))
        _resolve(h, "createdfrom", key_to_id)
        store.insert("ns_transaction", h)
        if self.lines:
            ln = pd.DataFrame(self.lines)
            ln["transaction"] = ln["txn_key"].map(key_to_id)
            ln = ln.sort_values(["transaction", "id"], kind="stable", ignore_index=True)
            ln["uniquekey"] = list(store.next_ids("ns_uniquekey", len(ln)))
            store.insert("ns_transactionline", ln)
            self.line_keys = ln[["txn_key", "id", "uniquekey"]]
        if self.links:
            lk = pd.DataFrame(self.links)
            _resolve(lk, "previousdoc", key_to_id)
            _resolve(lk, "nextdoc", key_to_id)
            store.insert("ns_previoustransactionlinelink", lk)
        return key_to_id


def _resolve(frame: pd.DataFrame, col: str, key_to_id: dict[str, int]) -> None:
    """Fill `col` with a transaction id given directly or by key (`<col>_key`)."""
    missing = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    given = frame[col].astype("Int64") if col in frame else missing
    by_key = (
        frame[f"{col}_key"].map(key_to_id).astype("Int64") if f"{col}_key" in frame else missing
    )
    frame[col] = given.fillna(by_key)


def tranids(store: Store, txn_type: str, n: int) -> list[str]:
    prefix = ids.TRANID[txn_type][0]
    return [f"{prefix}{k}" for k in store.next_ids(f"tranid_{txn_type}", n)]


def tax_cents(net_cents: int | np.ndarray, rate_percent: float) -> int | np.ndarray:
    """Tax on a net amount, rounded half up to the cent (integer arithmetic)."""
    bp = int(round(rate_percent * 100))
    return (net_cents * bp + 5000) // 10000


# --- sales orders ----------------------------------------------------------------------
SO_AFTER_CLOSE = timedelta(hours=3)


def sales_orders(
    store: Store,
    batch: TxnBatch,
    won: pd.DataFrame,
    lines: pd.DataFrame,
    customers_plan: pd.DataFrame,
    rates: Rates,
) -> None:
    """A sales order per closed-won opportunity, booked three hours after the win (a firm
    that books each line item on its own order: one per line item, with tax)."""
    if len(won) == 0:
        return
    conv = rates.params.conventions
    won = won.assign(so_ts=won["close_ts"] + SO_AFTER_CLOSE).sort_values(
        ["so_ts", "oidx"], kind="stable"
    )
    ns_of = dict(zip(customers_plan["cidx"], customers_plan["ns_id"], strict=True))
    country_of = dict(zip(customers_plan["cidx"], customers_plan["country"], strict=True))
    wanted = set(won["oidx"])
    by_opp: dict[int, list[dict]] = {}
    for oidx, role, name, qty, price, total in zip(
        lines["oidx"],
        lines["role"],
        lines["name"],
        lines["qty"],
        lines["unit_price"],
        lines["total"],
        strict=True,
    ):
        if oidx in wanted:
            by_opp.setdefault(oidx, []).append(
                {
                    "item": ITEM_IDS[role],
                    "memo": name,
                    "quantity": qty,
                    "rate": float(price),
                    "netamount": total,
                    "taxcode": None,
                    "tax1amt": None,
                }
            )
    orders = []  # (won deal, batch key, lines)
    for o in won.itertuples():
        if conv.books_each_line_item:
            for k, line in enumerate(by_opp[o.oidx]):
                key = f"SO:{o.sf_id}" if k == 0 else f"SO:{o.sf_id}:{k + 1}"
                orders.append((o, key, [order_line_tax(line, country_of[o.cidx], o.entity, conv)]))
        else:
            orders.append((o, f"SO:{o.sf_id}", by_opp[o.oidx]))
    numbers = tranids(store, "SalesOrd", len(orders))
    for tranid, (o, key, so_lines) in zip(numbers, orders, strict=True):
        pid = period_id(rates.params, o.close_date)
        header = {
            "key": key,
            "tranid": tranid,
            "type": "SalesOrd",
            "trandate": o.close_date,
            "duedate": None,
            "postingperiod": None,
            "entity": int(ns_of[o.cidx]),
            "subsidiary": o.entity,
            "currency": CURRENCY_IDS[o.currency],
            "exchangerate": rates.exchangerate(pid, o.currency, o.entity),
            "foreigntotal": o.amount_cents / 100,
            "status": "B",
            "memo": o.name,
            "custbody_sf_opportunity_id": o.sf_id,
            "createddate": o.so_ts,
            "lastmodifieddate": o.so_ts,
        }
        if conv.books_each_line_item:
            header["foreigntotal"] = total_of(so_lines)
        batch.add(header, so_lines)


def total_of(lines: list[dict]) -> float:
    """A transaction's total from its lines: net plus line tax (none on a line without it)."""
    return round(sum(li["netamount"] + (li.get("tax1amt") or 0) for li in lines), 2)


def order_line_tax(line: dict, country: str, entity: int, conv: Conventions) -> dict:
    """A sales-order line with the customer's tax on it (a tax code per line, or, where the
    entity carries tax on the header, only that it is taxable: exempt services there)."""
    if conv.header_tax(entity):
        return {**line, "istaxable": True}
    tax_id, rate = tax_for_country(country)
    net = int(round(line["netamount"] * 100))
    return {**line, "taxcode": tax_id, "tax1amt": int(tax_cents(net, rate)) / 100}


# --- invoices ---------------------------------------------------------------------------
def months_due(params: FirmParams, t1: datetime | None, t2: datetime) -> list[date]:
    """Service months whose invoicing morning (INVOICE_LAG_DAYS after month end, 09:00 to
    11:00) falls in (t1, t2]; clocks stand at 20:00, so a morning is never split."""
    out = []
    m = params.start_date
    while True:
        day = datetime.combine(month_end(m) + timedelta(days=INVOICE_LAG_DAYS), time(9))
        if day > t2:
            return out
        if t1 is None or day > t1:
            out.append(m)
        m = add_months(m, 1)


def payment_plan(
    seed: int, tranid_numbers: np.ndarray, trandates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(paid?, payment time, credited?) for invoices, keyed by their document number."""
    credited = uniform(seed, S_CREDIT, tranid_numbers) < CREDIT_SHARE
    paid = ~credited & (uniform(seed, S_PAYMENT, tranid_numbers) < PAID_SHARE)
    u = uniform(seed, S_PAYMENT_DAYS, tranid_numbers)
    days = 15 + np.floor(u * 46).astype(np.int64)
    ts = (
        (trandates.astype("datetime64[D]") + days).astype("datetime64[s]")
        + np.timedelta64(14, "h")
        + (np.floor(u * 997) % 120).astype(np.int64) * np.timedelta64(60, "s")
    )
    return paid, ts, credited


def credit_time(trandate: date) -> datetime:
    return datetime.combine(trandate + timedelta(days=CREDIT_AFTER_DAYS), time(11))


def tax_for_country(country: str) -> tuple[int, float]:
    t = TAX_BY_COUNTRY[country]
    return t.id, t.rate
