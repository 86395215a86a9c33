"""Harvest: clients, consultants, tasks, projects and (vectorised) time entries.

Time entries are the bulk of the data (millions at large scale), so they are built as
numpy arrays from the plan's assignments, every per-entry attribute drawn from a keyed
hash of (user, project, day): a window of days always yields the same entries whatever
else is generated with it. Names are not materialised here; `insert_time_entries` fills
the nested-object columns with one SQL join inside DuckDB.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from . import ids, names
from .params import APPROVAL_DAYS, ARCHIVE_DAYS, MONTH_END_APPROVAL_DAYS, ROLES
from .plan import INTERNAL_CLIENT_ID, INTERNAL_PROJECT_ID, Plan
from .rand import (
    S_ENTRY_BENCH,
    S_ENTRY_HOURS,
    S_ENTRY_LAG,
    S_ENTRY_MINUTE,
    S_ENTRY_NONBILLABLE,
    S_ENTRY_UNSUBMITTED,
    S_ENTRY_VACATION,
    S_EXPENSE,
    S_EXPENSE_AMOUNT,
    uniform,
)
from .store import Store

TASK_IDS = {r.code: ids.HV_TASK + i for i, r in enumerate(ROLES)}
"""Task id per role code: tasks are created in rate-card order."""
TASK_ROLE = {v: k for k, v in TASK_IDS.items()}
INTERNAL_PROJECT_NAME = "Internal - Bench & Training"
LOCKED_APPROVED = "Item Approved and Locked for this Time Period"
LOCKED_INVOICED = "Item Invoiced and Approved and Locked for this Time Period"
VACATION_SHARE = 0.04
BENCH_ENTRY_SHARE = 0.85
NONBILLABLE_SHARE = 0.03
UNSUBMITTED_SHARE = 0.02
EXPENSE_SHARE = 0.03
CITY = {"US": "New York, NY", "GB": "London", "DE": "Munich", "FR": "Paris", "NL": "Amsterdam"}
LONG_AGO = timedelta(days=2000)
INSERT_CHUNK = 250_000


def clients(plan: Plan) -> pd.DataFrame:
    c = plan.customers
    frame = pd.DataFrame(
        {
            "id": c["hv_id"],
            "name": c["hv_name"],
            "is_active": True,
            "address": c["country"].map(CITY),
            "currency": c["currency"],
            "created_at": c["created"] + timedelta(days=2),
            "updated_at": c["created"] + timedelta(days=2),
        }
    )
    internal_at = datetime.combine(plan.params.start_date, datetime.min.time()) - LONG_AGO
    internal = pd.DataFrame(
        [
            {
                "id": INTERNAL_CLIENT_ID,
                "name": "Q2C Group (Internal)",
                "is_active": True,
                "address": CITY["US"],
                "currency": "USD",
                "created_at": internal_at,
                "updated_at": internal_at,
            }
        ]
    )
    return pd.concat([internal, frame], ignore_index=True)


def users(plan: Plan) -> pd.DataFrame:
    u = plan.users
    return pd.DataFrame(
        {
            "id": u["hv_id"],
            "first_name": u["first"],
            "last_name": u["last"],
            "email": u["email"],
            "timezone": u["timezone"],
            "is_contractor": u["is_contractor"],
            "is_active": True,
            "weekly_capacity": 144000,
            "default_hourly_rate": u["default_rate"].astype(float),
            "cost_rate": u["cost_rate"].astype(float),
            "roles": _roles(plan, u),
            "created_at": u["created"],
            "updated_at": u["created"],
        }
    )


def _roles(plan: Plan, u: pd.DataFrame) -> list[list[str]]:
    """A consultant's Harvest roles: the job role, and (where the firm does so) the office."""
    conv = plan.params.conventions
    names_ = u["role"].map(conv.role_names)
    if conv.office_in_roles:
        return [[r, o] for r, o in zip(names_, u["office"], strict=True)]
    return [[r] for r in names_]


def tasks(plan: Plan) -> pd.DataFrame:
    at = datetime.combine(plan.params.start_date, datetime.min.time()) - LONG_AGO
    return pd.DataFrame(
        [
            {
                "id": TASK_IDS[r.code],
                "name": plan.params.conventions.role_names[r.code],
                "billable_by_default": True,
                "default_hourly_rate": None,
                "is_default": True,
                "is_active": True,
                "created_at": at + timedelta(hours=i),
                "updated_at": at + timedelta(hours=i),
            }
            for i, r in enumerate(ROLES)
        ]
    )


def projects(plan: Plan, clock: datetime) -> pd.DataFrame:
    """Projects created by `clock`; a project is archived ARCHIVE_DAYS after it ends."""
    o = plan.won[plan.won["project_created"] <= clock]
    c = plan.customers.set_index("cidx").loc[o["cidx"]]
    budget = plan.lines.groupby("oidx")["qty"].sum().reindex(o["oidx"]).to_numpy()
    archive = pd.to_datetime(o["end"]) + timedelta(days=ARCHIVE_DAYS, hours=9)
    archived = (archive <= clock).to_numpy()
    ff = o["fixed_fee"].to_numpy()
    conv = plan.params.conventions
    named = [
        conv.project_fields(n, p, d)
        for n, p, d in zip(o["name"], o["project_id"], o["sf_id"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            "id": o["project_id"].to_numpy(),
            "client_id": c["hv_id"].to_numpy(),
            "client_name": c["hv_name"].to_numpy(),
            "client_currency": c["currency"].to_numpy(),
            "name": [n["name"] for n in named],
            "code": [n["code"] for n in named],
            "is_active": ~archived,
            "is_billable": True,
            "is_fixed_fee": ff,
            "bill_by": np.where(ff, "Project", "Tasks"),
            "budget": budget,
            "budget_by": "project",
            "fee": np.where(ff, o["amount_cents"].to_numpy() / 100, np.nan),
            "hourly_rate": np.nan,
            "starts_on": o["start"].to_numpy(),
            "ends_on": o["end"].to_numpy(),
            "notes": "Contract " + o["contract_number"].to_numpy(),
            "created_at": o["project_created"].to_numpy(),
            "updated_at": np.where(
                archived, archive.to_numpy(), o["project_created"].to_numpy()
            ).astype("datetime64[s]"),
        }
    )
    at = datetime.combine(plan.params.start_date, datetime.min.time()) - LONG_AGO
    internal = pd.DataFrame(
        [
            {
                "id": INTERNAL_PROJECT_ID,
                "client_id": INTERNAL_CLIENT_ID,
                "client_name": "Q2C Group (Internal)",
                "client_currency": "USD",
                "name": INTERNAL_PROJECT_NAME,
                "code": None,
                "is_active": True,
                "is_billable": False,
                "is_fixed_fee": False,
                "bill_by": "none",
                "budget": np.nan,
                "budget_by": "none",
                "fee": np.nan,
                "hourly_rate": np.nan,
                "starts_on": at.date(),
                "ends_on": None,
                "notes": "Bench time, training and internal work",
                "created_at": at,
                "updated_at": at,
            }
        ]
    )
    return pd.concat([internal, frame], ignore_index=True)


# --- time entries ------------------------------------------------------------------
def _month_end(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1


def approval_times(
    seed: int, user: np.ndarray, project: np.ndarray, spent: np.ndarray
) -> np.ndarray:
    """When an entry gets approved: a week after it is spent, or two days after its
    month ends if that is sooner (month-end timesheet close); NaT if never submitted."""
    day = spent.astype("datetime64[D]")
    key = day.astype(np.int64)
    when = np.minimum(day + APPROVAL_DAYS, _month_end(day) + MONTH_END_APPROVAL_DAYS)
    minutes = (uniform(seed, S_ENTRY_MINUTE, user, project, key, 1) * 60).astype(np.int64)
    ts = when.astype("datetime64[s]") + np.timedelta64(10, "h") + minutes * np.timedelta64(60, "s")
    unsubmitted = uniform(seed, S_ENTRY_UNSUBMITTED, user, project, key) < UNSUBMITTED_SHARE
    return np.where(unsubmitted, np.datetime64("NaT", "s"), ts)


def _busdays(lo: date, hi: date) -> np.ndarray:
    return np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1)[
        np.is_busday(np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1))
    ]


def time_entries(
    plan: Plan, t1: datetime | None, t2: datetime, deleted_projects: set[int]
) -> pd.DataFrame:
    """Entries saved in (t1, t2], with their approval state at t2 (ids not yet assigned).

    Consultants log one entry per workday: on the project they are staffed on, or on the
    internal bench project when they are not (most bench days), never on vacation days.
    """
    seed = plan.params.seed
    lo = (
        plan.params.start_date
        if t1 is None
        else max(plan.params.start_date, t1.date() - timedelta(days=2))
    )
    hi = t2.date()
    if hi < lo:
        return pd.DataFrame()
    days = _busdays(lo, hi)
    users = plan.users
    uid = users["hv_id"].to_numpy()

    a = plan.assignments
    a = a[(a["start"] <= hi) & (a["end"] >= lo)]
    a_lo = np.maximum(a["start"].to_numpy().astype("datetime64[D]"), np.datetime64(lo, "D"))
    a_hi = np.minimum(a["end"].to_numpy().astype("datetime64[D]"), np.datetime64(hi, "D"))
    n = np.busday_count(a_lo, a_hi + 1)
    rep = np.repeat(np.arange(len(a)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    p_day = np.busday_offset(a_lo[rep], offset, roll="forward")
    p_user = uid[a["uidx"].to_numpy()[rep]]
    p_project = a["project_id"].to_numpy()[rep]
    p_oidx = a["oidx"].to_numpy()[rep]
    p_role = a["role_idx"].to_numpy()[rep]

    # The bench: every (user, workday) without a project.
    busy = np.zeros((len(users), len(days)), dtype=bool)
    busy[a["uidx"].to_numpy()[rep], np.searchsorted(days, p_day)] = True
    b_u, b_d = np.nonzero(~busy)
    b_day = days[b_d]
    b_user = uid[b_u]
    keep = uniform(seed, S_ENTRY_BENCH, b_user, b_day.astype(np.int64)) < BENCH_ENTRY_SHARE
    b_user, b_day, b_u = b_user[keep], b_day[keep], b_u[keep]

    day = np.concatenate([p_day, b_day])
    user = np.concatenate([p_user, b_user])
    project = np.concatenate([p_project, np.full(len(b_day), INTERNAL_PROJECT_ID)])
    role = np.concatenate([p_role, users["role_idx"].to_numpy()[b_u]])
    oidx = np.concatenate([p_oidx, np.full(len(b_day), -1)])
    on_project = np.arange(len(day)) < len(p_day)
    key = day.astype(np.int64)

    keep = uniform(seed, S_ENTRY_VACATION, user, key) >= VACATION_SHARE
    keep &= ~np.isin(project, np.fromiter(deleted_projects, dtype=np.int64))
    lag_u = uniform(seed, S_ENTRY_LAG, user, project, key)
    lag = np.where(lag_u < 0.85, 0, np.where(lag_u < 0.95, 1, 2))
    created_day = np.minimum(day + lag, _month_end(day) + 1)
    minute = (uniform(seed, S_ENTRY_MINUTE, user, project, key) * 120).astype(np.int64)
    created = (
        created_day.astype("datetime64[s]")
        + np.timedelta64(17, "h")
        + minute * np.timedelta64(60, "s")
    )
    keep &= created <= np.datetime64(t2, "s")
    if t1 is not None:
        keep &= created > np.datetime64(t1, "s")
    day, user, project, role, oidx, on_project, key, created = (
        x[keep] for x in (day, user, project, role, oidx, on_project, key, created)
    )

    hours_u = uniform(seed, S_ENTRY_HOURS, user, project, key)
    hours = np.where(
        on_project, 6.5 + 0.25 * np.floor(hours_u * 11), 2.0 + 0.25 * np.floor(hours_u * 25)
    )
    billable = on_project & (
        uniform(seed, S_ENTRY_NONBILLABLE, user, project, key) >= NONBILLABLE_SHARE
    )
    approved = approval_times(seed, user, project, day)
    closed = ~np.isnat(approved) & (approved <= np.datetime64(t2, "s"))

    order = np.lexsort((project, user, created))
    (
        day,
        user,
        project,
        role,
        oidx,
        on_project,
        key,
        created,
        hours_u,
        hours,
        billable,
        approved,
        closed,
    ) = (
        x[order]
        for x in (
            day,
            user,
            project,
            role,
            oidx,
            on_project,
            key,
            created,
            hours_u,
            hours,
            billable,
            approved,
            closed,
        )
    )
    contracted = np.full((max(len(plan.opps), 1), len(ROLES)), np.nan)
    contracted[plan.lines["oidx"].to_numpy(), plan.lines["role_idx"].to_numpy()] = plan.lines[
        "unit_price"
    ].to_numpy()
    rate = np.where(oidx >= 0, contracted[np.maximum(oidx, 0), role], np.nan)
    cost = plan.users["cost_rate"].to_numpy(dtype=float)[user - ids.HV_USER]
    frame = pd.DataFrame(
        {
            "spent_date": day,
            "hours": hours,
            "note_idx": ((hours_u * 1000).astype(np.int64) % len(names.TIME_NOTES)).astype(np.int8),
            "is_closed": closed,
            "is_billed": False,
            "billable": billable,
            "billable_rate": np.where(billable, rate, np.nan),
            "cost_rate": cost,
            "user_id": user,
            "project_id": project,
            "task_id": ids.HV_TASK + role,
            "created_at": created,
            "approved_at": approved,
            "updated_at": np.where(closed, approved, created),
        }
    )
    return frame


def expenses_for(plan: Plan, entries: pd.DataFrame) -> pd.DataFrame:
    """A few expenses, on the days consultants were at a client (keyed like entries)."""
    seed = plan.params.seed
    e = entries[entries["project_id"] != INTERNAL_PROJECT_ID]
    key = e["spent_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    pick = (
        uniform(seed, S_EXPENSE, e["user_id"].to_numpy(), e["project_id"].to_numpy(), key)
        < EXPENSE_SHARE
    )
    e = e[pick]
    u = uniform(
        seed, S_EXPENSE_AMOUNT, e["user_id"].to_numpy(), e["project_id"].to_numpy(), key[pick]
    )
    category = (u * 1000).astype(int) % len(names.EXPENSE_CATEGORIES)
    return pd.DataFrame(
        {
            "spent_date": e["spent_date"].to_numpy(),
            "notes": np.array(names.EXPENSE_NOTES)[category % len(names.EXPENSE_NOTES)],
            "total_cost": np.round(20 + u * 880, 2),
            "is_closed": e["is_closed"].to_numpy(),
            "is_locked": e["is_closed"].to_numpy(),
            "is_billed": False,
            "locked_reason": np.where(e["is_closed"].to_numpy(), LOCKED_APPROVED, None),
            "billable": False,
            "user_id": e["user_id"].to_numpy(),
            "project_id": e["project_id"].to_numpy(),
            "expense_category_id": ids.HV_EXPENSE_CATEGORY + category,
            "expense_category_name": np.array(names.EXPENSE_CATEGORIES)[category],
            "created_at": e["created_at"].to_numpy(),
            "updated_at": e["updated_at"].to_numpy(),
        }
    )


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# Strings are derived inside DuckDB from ids and small codes, so the million-row frames
# handed over carry numbers only.
_TIME_SQL = f"""
    insert into hv_time_entries by name
    select src.id, src.spent_date, src.hours, src.hours as rounded_hours,
           coalesce(src.notes, {_sql_list(names.TIME_NOTES)}[src.note_idx + 1]) as notes,
           src.is_closed or src.is_billed as is_locked,
           case when src.is_billed then '{LOCKED_INVOICED}'
                when src.is_closed then '{LOCKED_APPROVED}' end as locked_reason,
           src.is_closed, src.is_billed, false as is_running, src.billable,
           src.project_id <> {INTERNAL_PROJECT_ID} as budgeted,
           src.billable_rate, src.cost_rate, src.user_id,
           u.first_name || ' ' || u.last_name as user_name,
           c.id as client_id, c.name as client_name, c.currency as client_currency,
           src.project_id, p.name as project_name, p.code as project_code,
           src.task_id, t.name as task_name, src.invoice_id,
           $prefix || (src.invoice_id - {ids.HV_INVOICE}) as invoice_number,
           src.created_at, src.updated_at
    from _firm_src src
    join hv_users u on u.id = src.user_id
    join hv_projects p on p.id = src.project_id
    join hv_clients c on c.id = p.client_id
    join hv_tasks t on t.id = src.task_id
    order by src.id
"""
_EXPENSE_SQL = """
    insert into hv_expenses by name
    select src.*, u.first_name || ' ' || u.last_name as user_name,
           c.id as client_id, c.name as client_name, c.currency as client_currency,
           p.name as project_name, p.code as project_code
    from _firm_src src
    join hv_users u on u.id = src.user_id
    join hv_projects p on p.id = src.project_id
    join hv_clients c on c.id = p.client_id
    order by src.id
"""
_TIME_COLUMNS = (
    "id",
    "spent_date",
    "hours",
    "notes",
    "note_idx",
    "is_closed",
    "is_billed",
    "billable",
    "billable_rate",
    "cost_rate",
    "user_id",
    "project_id",
    "task_id",
    "invoice_id",
    "created_at",
    "updated_at",
)


def insert_with_names(store: Store, invoice_prefix: str, table: str, frame: pd.DataFrame) -> int:
    """Insert time entries or expenses, filling the nested objects' columns by joins (a
    billed entry's invoice number is `invoice_prefix` and its ERP invoice's number)."""
    if len(frame) == 0:
        return 0
    if table == "hv_time_entries":
        frame = frame.assign(
            **{c: None for c in ("notes", "invoice_id", "note_idx") if c not in frame}
        )
        frame = frame.astype({"invoice_id": "Int64", "note_idx": "Int8"})[list(_TIME_COLUMNS)]
        sql, params = _TIME_SQL, {"prefix": invoice_prefix}
    else:
        sql, params = _EXPENSE_SQL, {}
    # In chunks, so the Arrow copy of a million-row frame never exists all at once.
    for start in range(0, len(frame), INSERT_CHUNK):
        arrow = pa.Table.from_pandas(frame.iloc[start : start + INSERT_CHUNK], preserve_index=False)
        store.con.register("_firm_src", arrow)
        try:
            store.con.execute(sql, params)
        finally:
            store.con.unregister("_firm_src")
    store.inserted[table] += len(frame)
    return len(frame)
