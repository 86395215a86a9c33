"""The ground truth: every planted problem, when it became true and when it was fixed.

Planted problems are recorded by the code that plants them. Two things are not known at
planting time and are settled when a run commits:

* an unbilled-time plant becomes an exception only once its month ended more than
  `grace_days` before the clock, so it waits in `sim_meta` ("pending") until then;
* reporting drift is a property of whole periods, which any plant (or fix) can move, so
  it is computed from the final data with `reporting_drift_sql` — the exact rule of the
  contract — and rows are opened and resolved as the computed set changes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import ids
from .erp import ITEM_IDS
from .params import FIXED_FEE_ITEM
from .store import Store
from .tenants import Conventions

INVOICE_PROBLEMS = ("missing_tax_code", "invoice_rate_variance", "invoice_currency_mismatch")
"""The exception types planted on an invoice or its lines."""

COLUMNS = (
    "exception_type",
    "source_system",
    "source_record_id",
    "status",
    "planted_at",
    "resolved_at",
    "note",
)

# The reporting-drift rule of the contract (simulator/README.md), on the vendor tables.
# Returns one row per drifting `YYYY-MM|<subsidiary>` with the earliest timestamp of a
# record that changed a closed period after its close (null when only (b) applies).
# Billed time counts where the invoice that billed it posts (the live invoice carrying its
# Harvest invoice number, in tranid or otherrefnum as the firm keys it, the lowest id when
# two do, one not credited in full before one that is: the rebill of a credit-and-rebill);
# time on an invoice credited in full and not rebilled counts on neither side, as the
# invoice nets to zero: credit memos count, negated, where the invoice they were created
# from posts. Time no invoice carries counts where it was worked, for the consultant's home
# office, or (a firm that staffs across entities) for the entity of the customer served:
# `reporting_drift_sql(conventions)`.
_REPORTING_DRIFT_SQL = """
with periods as (
    select id, startdate, enddate, closed, closedondate from ns_accountingperiod
),
to_usd as (
    select id as period, 'USD' as currency, 1.0::double as usd from periods
    union all
    select r.postingperiod, c.symbol, r.averagerate::double
    from ns_consolidatedexchangerate r
    join ns_currency c on c.id = r.fromcurrency
    where r.tosubsidiary = 1
),
conversion as (
    select f.period, f.currency, s.id as subsidiary, round(f.usd / g.usd, 6) as rate
    from to_usd f
    cross join ns_subsidiary s
    join ns_currency sc on sc.id = s.currency
    join to_usd g on g.period = f.period and g.currency = sc.symbol
),
home as (
    select id as user_id,
           case roles[2] when 'New York' then 1 when 'London' then 2 when 'Berlin' then 3 end
               as subsidiary
    from hv_users
),
served as (
    select c.id as client_id, n.subsidiary
    from hv_clients c join ns_customer n on n.id = c.id - {hv_client} + {ns_customer}
),
credited_in_full as (
    select i.id
    from ns_transaction i
    join (
        select createdfrom, sum(foreigntotal) as credited from ns_transaction
        where type = 'CustCred' and createdfrom is not null group by all
    ) c on c.createdfrom = i.id
    where i.type = 'CustInvc' and c.credited >= i.foreigntotal
),
billing_invoice as (
    select number, period, subsidiary, credited from (
        select t.{invoice_number} as number, t.postingperiod as period, t.subsidiary,
               f.id is not null as credited,
               row_number() over (partition by t.{invoice_number}
                                  order by f.id is not null, t.id) as k
        from ns_transaction t left join credited_in_full f on f.id = t.id
        where t.type = 'CustInvc' and t.{invoice_number} is not null
    ) where k = 1
),
tm_time as (
    select te.*, h.subsidiary, c.currency, p.id as period, p.closed, p.closedondate,
           coalesce(b.period, p.id) as billed_period,
           coalesce(b.subsidiary, h.subsidiary) as billed_subsidiary,
           coalesce(b.credited, false) as on_credited_invoice
    from hv_time_entries te
    join hv_projects pr on pr.id = te.project_id and pr.is_billable and not pr.is_fixed_fee
    join hv_clients c on c.id = pr.client_id
    {entity_join}
    join periods p on te.spent_date between p.startdate and p.enddate
    left join billing_invoice b on te.is_billed and b.number = te.invoice_number
),
invoice_lines as (
    select l.*, t.postingperiod as period, cur.symbol as currency,
           p.closed, p.closedondate
    from ns_transactionline l
    join ns_transaction t on t.id = l.transaction and t.type = 'CustInvc'
    join ns_currency cur on cur.id = t.currency
    join periods p on p.id = t.postingperiod
),
psa_value as (
    select period, subsidiary, sum(amount * rate) as value from (
        select billed_period as period, billed_subsidiary as subsidiary, currency,
               sum(hours * billable_rate) as amount
        from tm_time where is_billed and not on_credited_invoice group by all
    ) join conversion using (period, currency, subsidiary)
    group by all
),
erp_lines as (
    select case when t.type = 'CustCred' then -l.netamount else l.netamount end as netamount,
           l.item, cur.symbol as currency,
           coalesce(i.postingperiod, t.postingperiod) as period,
           coalesce(i.subsidiary, l.subsidiary) as subsidiary
    from ns_transactionline l
    join ns_transaction t on t.id = l.transaction and t.type in ('CustInvc', 'CustCred')
    left join ns_transaction i
        on t.type = 'CustCred' and i.id = t.createdfrom and i.type = 'CustInvc'
    join ns_currency cur on cur.id = t.currency
),
erp_value as (
    select period, subsidiary, sum(amount * rate) as value from (
        select period, subsidiary, currency, sum(netamount) as amount
        from erp_lines where item <> {fixed_fee_item} group by all
    ) join conversion using (period, currency, subsidiary)
    group by all
),
compared as (
    select coalesce(a.period, e.period) as period,
           coalesce(a.subsidiary, e.subsidiary) as subsidiary,
           round(coalesce(a.value, 0), 2) as psa_value,
           round(coalesce(e.value, 0), 2) as erp_value
    from psa_value a
    full outer join erp_value e on e.period = a.period and e.subsidiary = a.subsidiary
),
drift as (
    select period, subsidiary, null::timestamp as since from compared
    where abs(psa_value - erp_value)
          > greatest(0.005 * greatest(abs(psa_value), abs(erp_value)), 1.00)
    union all
    select period, subsidiary, min(created_at) from tm_time
    where closed and created_at > closedondate and is_closed and billable
    group by all
    union all
    select period, subsidiary, min(linelastmodifieddate) from invoice_lines
    where closed and linelastmodifieddate > closedondate
    group by all
)
select strftime(p.startdate, '%Y-%m') || '|' || d.subsidiary as record_id, min(d.since) as since
from drift d join periods p on p.id = d.period
group by all
order by 1
"""


def reporting_drift_sql(conv: Conventions) -> str:
    return _REPORTING_DRIFT_SQL.format(
        hv_client=ids.HV_CLIENT,
        ns_customer=ids.NS_CUSTOMER,
        fixed_fee_item=ITEM_IDS[FIXED_FEE_ITEM],
        invoice_number="otherrefnum" if conv.invoice_number_in_otherrefnum else "tranid",
        entity_join=(
            "join home h on h.user_id = te.user_id"
            if conv.office_in_roles
            else "join served h on h.client_id = pr.client_id"
        ),
    )


@dataclass
class _Deferred:
    exception_type: str
    source_system: str
    txn_key: str
    line_no: int | None
    planted_at: datetime
    note: str


class Truth:
    """Ground-truth changes of one run, written by `commit`."""

    def __init__(self, store: Store, conventions: Conventions) -> None:
        self.conventions = conventions
        self.store = store
        self.new: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.deferred: list[_Deferred] = []
        self.resolutions: list[tuple[str, str, str, datetime]] = []
        self._planted: dict[str, set[str]] = {}

    def plant(
        self,
        exception_type: str,
        source_system: str,
        record_id: str,
        planted_at: datetime,
        note: str,
        *,
        pending: bool = False,
    ) -> None:
        row = {
            "exception_type": exception_type,
            "source_system": source_system,
            "source_record_id": record_id,
            "planted_at": planted_at,
            "note": note,
        }
        (self.pending if pending else self.new).append(row)
        self._planted.setdefault(exception_type, set()).add(record_id)

    def planted_ids(self, exception_type: str) -> set[str]:
        """Record ids planted in this run (new or pending) for one exception type."""
        return self._planted.get(exception_type, set())

    def open_ids(
        self, exception_type: str, rows: Callable[[str, list], list[tuple]] | None = None
    ) -> set[str]:
        """Record ids of one exception type open in the ground truth or planted in this run;
        `rows` runs the query (default: the store's)."""
        found = (rows or self.store.rows)(
            "select source_record_id from sim_ground_truth where exception_type = ? and "
            "resolved_at is null",
            [exception_type],
        )
        return {r for (r,) in found} | self.planted_ids(exception_type)

    def invoices_with_open_problems(self) -> set[int | str]:
        """Invoices an open invoice problem (tax code, rate, currency) is planted on: their
        ids, and the batch keys of invoices not written yet."""
        out: set[int | str] = {
            d.txn_key for d in self.deferred if d.exception_type in INVOICE_PROBLEMS
        }
        resolved = {(k, r) for k, _, r, _ in self.resolutions}
        for kind in INVOICE_PROBLEMS:
            open_ids = sorted(r for r in self.open_ids(kind) if (kind, r) not in resolved)
            if kind == "invoice_currency_mismatch":
                out |= {int(r) for r in open_ids}
            elif open_ids:
                out |= {
                    int(t)
                    for (t,) in self.store.rows(
                        "select distinct transaction from ns_transactionline "
                        "where list_contains(?, uniquekey::varchar)",
                        [open_ids],
                    )
                }
        return out

    def plant_on_flush(
        self,
        exception_type: str,
        source_system: str,
        txn_key: str,
        line_no: int | None,
        planted_at: datetime,
        note: str,
    ) -> None:
        """A plant on a transaction (or one of its lines) whose id is not assigned yet."""
        self.deferred.append(
            _Deferred(exception_type, source_system, txn_key, line_no, planted_at, note)
        )

    def after_flush(self, key_to_id: dict[str, int], line_keys: Any) -> None:
        uk = (
            {}
            if line_keys is None
            else {(k, int(i)): int(u) for k, i, u in line_keys.itertuples(index=False)}
        )
        for d in self.deferred:
            rid = key_to_id[d.txn_key] if d.line_no is None else uk[(d.txn_key, d.line_no)]
            self.plant(d.exception_type, d.source_system, str(rid), d.planted_at, d.note)
        self.deferred = []

    def resolve(
        self, exception_type: str, source_system: str, record_id: str, at: datetime
    ) -> None:
        self.resolutions.append((exception_type, source_system, record_id, at))

    def commit(self, clock: datetime) -> None:
        """Write new rows, promote pending ones that came true, refresh reporting drift."""
        store = self.store
        assert not self.deferred, "plants on unflushed transactions"
        waiting = [
            {**r, "planted_at": datetime.fromisoformat(r["planted_at"])}
            for r in store.json_meta("pending_truth", [])
        ] + self.pending
        due = [r for r in waiting if r["planted_at"] <= clock]
        still = [r for r in waiting if r["planted_at"] > clock]
        if due:
            open_ids = {
                str(i)
                for (i,) in store.rows(
                    "select id from hv_time_entries where is_closed and billable and not is_billed"
                )
            }
            self.new += [r for r in due if r["source_record_id"] in open_ids]
        store.meta["pending_truth"] = json.dumps(
            [{**r, "planted_at": r["planted_at"].isoformat()} for r in still], sort_keys=True
        )
        if self.new:
            rows = pd.DataFrame(
                self.new,
                columns=[
                    "exception_type",
                    "source_system",
                    "source_record_id",
                    "planted_at",
                    "note",
                ],
            )
            store.con.register("_firm_truth", rows)
            try:
                store.con.execute(
                    "insert into sim_ground_truth select exception_type, source_system, "
                    "source_record_id, planted_at, null, note from _firm_truth"
                )
            finally:
                store.con.unregister("_firm_truth")
        for exc, system, rid, at in self.resolutions:
            store.con.execute(
                "update sim_ground_truth set resolved_at = ? where exception_type = ? and "
                "source_system = ? and source_record_id = ? and resolved_at is null",
                [at, exc, system, rid],
            )
        self._refresh_reporting_drift(clock)
        self.new, self.pending, self.resolutions = [], [], []

    def _refresh_reporting_drift(self, clock: datetime) -> None:
        store = self.store
        now = dict(store.rows(reporting_drift_sql(self.conventions)))
        open_rows = {
            rid
            for (rid,) in store.rows(
                "select source_record_id from sim_ground_truth where exception_type = "
                "'reporting_drift' and resolved_at is null"
            )
        }
        for rid in sorted(set(now) - open_rows):
            since = now[rid] or clock
            store.con.execute(
                "insert into sim_ground_truth values ('reporting_drift', 'warehouse', ?, ?, "
                "null, ?)",
                [rid, min(since, clock), _drift_note(now[rid])],
            )
        for rid in sorted(open_rows - set(now)):
            store.con.execute(
                "update sim_ground_truth set resolved_at = ? where exception_type = "
                "'reporting_drift' and source_record_id = ? and resolved_at is null",
                [clock, rid],
            )


def _drift_note(since: datetime | None) -> str:
    if since is None:
        return "PSA billed value and ERP invoiced value disagree"
    return "closed period changed after close"


def open_truth(store: Store, exception_type: str | None = None) -> list[tuple[str, str, str]]:
    sql = (
        "select exception_type, source_system, source_record_id from sim_ground_truth "
        "where resolved_at is null"
    )
    if exception_type:
        return store.rows(sql + " and exception_type = ? order by 3", [exception_type])
    return store.rows(sql + " order by 1, 2, 3")


def ground_truth(con: Any) -> list[dict[str, Any]]:
    """Every ground-truth row, sorted, with its status ('open' or 'resolved')."""
    rows = con.execute(
        "select exception_type, source_system, source_record_id, planted_at, resolved_at, "
        "note from sim_ground_truth order by exception_type, source_system, "
        "source_record_id, planted_at, resolved_at nulls last, note"
    ).fetchall()
    return [
        {
            "exception_type": r[0],
            "source_system": r[1],
            "source_record_id": r[2],
            "status": "open" if r[4] is None else "resolved",
            "planted_at": r[3],
            "resolved_at": r[4],
            "note": r[5],
        }
        for r in rows
    ]


def write_ground_truth(con: Any, path: str | Path) -> int:
    """Write the ground truth as CSV (columns in COLUMNS order); returns the row count."""
    rows = ground_truth(con)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([_fmt(r[c]) for c in COLUMNS])
    return len(rows)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)
