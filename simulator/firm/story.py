"""One window (t1, t2] of the firm's life, applied to the database.

`generate` runs a single window from the beginning of time to the as-of clock; `advance`
runs the window from the old clock to the new one. The same code does both, so a month
is invoiced, a deal closed or a timesheet approved in exactly one way. Within a window
every record created or changed gets the timestamp of the event that did it, which is
after t1: incremental loads on the vendors' cursors see every change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd

from . import billing, crm, erp, psa
from .erp import Rates, TxnBatch
from .plan import Plan
from .store import Store
from .truth import Truth

Progress = Callable[[str], None]


def _changed(frame: pd.DataFrame, cursor: str, t1: datetime | None) -> pd.DataFrame:
    return frame if t1 is None else frame[frame[cursor] > t1]


def upsert(
    store: Store,
    table: str,
    frame: pd.DataFrame,
    key: str,
    update_cols: list[str],
    *,
    skip_deleted: bool = False,
) -> None:
    """Insert new rows, update `update_cols` of existing ones (never soft-deleted ones)."""
    if len(frame) == 0:
        return
    store.con.register("_firm_keys", frame[[key]])
    try:
        deleted_col = ', "IsDeleted"' if skip_deleted else ", false"
        existing = dict(
            store.rows(
                f'select t."{key}"{deleted_col} from {table} t '
                f'join _firm_keys k on k."{key}" = t."{key}"'
            )
        )
    finally:
        store.con.unregister("_firm_keys")
    is_old = frame[key].isin(list(existing))
    store.insert(table, frame[~is_old])
    live = frame[is_old & ~frame[key].map(lambda k: bool(existing.get(k, False)))]
    store.update(table, live, [key], update_cols)


def run_window(
    store: Store,
    plan: Plan,
    t1: datetime | None,
    t2: datetime,
    truth: Truth,
    *,
    force_min: bool = False,
    progress: Progress | None = None,
) -> None:
    say = progress or (lambda _msg: None)
    params = plan.params
    deleted_projects = set(store.json_meta("deleted_projects", []))
    if t1 is None:
        store.insert("ns_subsidiary", erp.subsidiaries(params))
        store.insert("ns_currency", erp.currencies(params))
        store.insert("ns_item", erp.items(params))
        store.insert("ns_salestaxitem", erp.tax_items(params))
        store.insert("ns_customer", erp.customers(params, plan.customers))
        store.insert("sf_account", crm.accounts(plan))
        store.insert("hv_clients", psa.clients(plan))
        store.insert("hv_users", psa.users(plan))
        store.insert("hv_tasks", psa.tasks(plan))

    periods, fx = erp.periods_and_rates(params, t2)
    upsert(
        store,
        "ns_accountingperiod",
        _changed(periods, "lastmodifieddate", t1),
        "id",
        ["closed", "closedondate", "lastmodifieddate"],
    )
    store.insert("ns_consolidatedexchangerate", _changed(fx, "lastmodifieddate", t1))
    rates = Rates(params, t2)

    opps = _changed(crm.opportunities(plan, t2), "SystemModstamp", t1)
    upsert(
        store,
        "sf_opportunity",
        opps,
        "Id",
        ["StageName", "IsClosed", "IsWon", "ContractId", "LastModifiedDate", "SystemModstamp"],
        skip_deleted=True,
    )
    store.insert("sf_opportunitylineitem", _changed(crm.line_items(plan, t2), "CreatedDate", t1))
    store.insert("sf_contract", _changed(crm.contracts(plan, t2), "CreatedDate", t1))
    say(f"CRM: {len(opps)} opportunities created or changed")

    batch = TxnBatch()
    so_ts = plan.won["close_ts"] + erp.SO_AFTER_CLOSE
    booked = plan.won[(so_ts <= t2) & ((so_ts > t1) if t1 is not None else True)]
    erp.sales_orders(store, batch, booked, plan.lines, plan.customers, rates)

    projects = _changed(psa.projects(plan, t2), "updated_at", t1)
    projects = projects[~projects["id"].isin(list(deleted_projects))]
    upsert(store, "hv_projects", projects, "id", ["is_active", "updated_at"])

    entries = psa.time_entries(plan, t1, t2, deleted_projects)
    entries["id"] = (
        np.arange(len(entries), dtype=np.int64)
        + store.next_ids("hv_time_entry", len(entries)).start
    )
    entries["invoice_id"] = pd.array([pd.NA] * len(entries), dtype="Int64")
    say(f"PSA: {len(entries):,} time entries")
    if t1 is not None:
        approve(store, plan, t2)

    billed = billing.invoice_window(
        store, plan, batch, rates, truth, t1, t2, entries, deleted_projects, force_min=force_min
    )
    entries = billing.mark_billed(store, plan.params.conventions, entries, billed)
    expenses = psa.expenses_for(plan, entries)
    expenses.insert(
        0,
        "id",
        np.arange(len(expenses), dtype=np.int64)
        + store.next_ids("hv_expense", len(expenses)).start,
    )
    prefix = plan.params.conventions.harvest_invoice_prefix
    psa.insert_with_names(store, prefix, "hv_time_entries", entries)
    psa.insert_with_names(store, prefix, "hv_expenses", expenses)

    billing.settle_window(store, plan, batch, rates, t1, t2, truth)
    key_to_id = batch.flush(store)
    truth.after_flush(key_to_id, batch.line_keys)
    say(f"ERP: {len(batch.headers):,} transactions")


def approve(store: Store, plan: Plan, t2: datetime) -> None:
    """Approve older time entries and expenses whose approval falls before t2."""
    for table in ("hv_time_entries", "hv_expenses"):
        rows = store.df(
            f"select id, user_id, project_id, spent_date from {table} where not is_closed"
        )
        if len(rows) == 0:
            continue
        at = psa.approval_times(
            plan.params.seed,
            rows["user_id"].to_numpy(),
            rows["project_id"].to_numpy(),
            rows["spent_date"].to_numpy().astype("datetime64[D]"),
        )
        due = ~np.isnat(at) & (at <= np.datetime64(t2, "s"))
        upd = pd.DataFrame(
            {
                "id": rows["id"].to_numpy()[due],
                "is_closed": True,
                "is_locked": True,
                "locked_reason": psa.LOCKED_APPROVED,
                "updated_at": at[due],
            }
        )
        store.update(table, upd, ["id"], ["is_closed", "is_locked", "locked_reason", "updated_at"])
