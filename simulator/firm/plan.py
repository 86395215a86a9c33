"""The firm's plan: who the customers and consultants are, which deals are won or lost,
and who works on what, from the start of the history to a horizon beyond the clock.

The plan is a pure function of the parameters and it is *prefix-stable*: building it to
a later horizon adds deals at the end and never changes an earlier one (each week of
deals draws from its own random stream, and staffing state only flows forward). That is
what lets `advance` rebuild the plan and continue the same story that `generate` began.
Every vendor record is a view of the plan at some clock (see story.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from . import ids, names
from .params import (
    COUNTRY_ENTITY,
    ENTITIES,
    ENTITY3_COUNTRIES,
    ENTITY_BY_ID,
    LEGAL_SUFFIXES,
    RATE_DEVIATIONS,
    ROLES,
    USD_DEAL_SHARE,
    FirmParams,
)
from .rand import S_CUSTOMERS, S_DEALS, S_USERS, generator

ROLE_CODES = tuple(r.code for r in ROLES)
ROLE_BY_CODE = {r.code: r for r in ROLES}
ROLE_INDEX = {r.code: i for i, r in enumerate(ROLES)}
HOURS_PER_DAY = 7.5
IDLE_SHARE = 0.12
"""Share of an entity's consultants left on the bench before new deals are sought."""
INTERNAL_PROJECT_ID = ids.HV_PROJECT - 1
INTERNAL_CLIENT_ID = ids.HV_CLIENT - 1


@dataclass
class Plan:
    params: FirmParams
    horizon: date
    customers: pd.DataFrame
    users: pd.DataFrame
    opps: pd.DataFrame
    lines: pd.DataFrame
    assignments: pd.DataFrame
    cache: dict = field(default_factory=dict, repr=False)
    """Lookups derived from the plan, built on first use (see billing.py)."""

    @property
    def won(self) -> pd.DataFrame:
        return self.opps[self.opps["won"]]


def _split(total: int, shares: list[float], minimum: int = 1) -> list[int]:
    """Largest-remainder split of `total` by `shares`, each part at least `minimum`."""
    raw = [total * s / sum(shares) for s in shares]
    parts = [max(minimum, int(x)) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: -(raw[i] - int(raw[i])))
    i = 0
    while sum(parts) < total:
        parts[order[i % len(order)]] += 1
        i += 1
    return parts


def _at(d: date, minutes_after_8: int) -> datetime:
    return datetime.combine(d, time(8, 0)) + timedelta(minutes=int(minutes_after_8))


def _workday_on_or_after(o: int) -> int:
    wd = date.fromordinal(o).weekday()
    return o + (7 - wd if wd >= 5 else 0)


def _workday_on_or_before(o: int) -> int:
    wd = date.fromordinal(o).weekday()
    return o - (wd - 4 if wd >= 5 else 0)


def build_customers(params: FirmParams) -> pd.DataFrame:
    g = generator(params.seed, S_CUSTOMERS)
    n = max(8, round(0.6 * params.scale_spec.consultants))
    per_entity = _split(n, [e.staff_share for e in ENTITIES], minimum=3)
    countries: list[str] = []
    for e, k in zip(ENTITIES, per_entity, strict=True):
        if e.id == 3:
            codes = [c for c, _ in ENTITY3_COUNTRIES]
            countries += list(g.choice(codes, size=k, p=[p for _, p in ENTITY3_COUNTRIES]))
        else:
            countries += [e.country] * k
    countries = [countries[i] for i in g.permutation(n)]

    conv = params.conventions
    first_words = conv.first_words or names.FIRST_WORDS
    n_first, n_sector = len(first_words), len(names.SECTOR_WORDS)
    pairs = iter(g.permutation(n_first * n_sector).tolist())
    used: set[tuple[int, int]] = set()

    def fresh_pair(first: int | None = None) -> tuple[int, int]:
        if first is not None:
            for s in g.permutation(n_sector).tolist():
                if (first, s) not in used:
                    used.add((first, s))
                    return first, s
        while True:
            p = next(pairs)
            pair = (p // n_sector, p % n_sector)
            if pair not in used and (first is None or pair[0] == first):
                used.add(pair)
                return pair

    parent = [-1] * n
    pair_of: list[tuple[int, int]] = []
    for i in range(n):
        same_country = [j for j in range(i) if countries[j] == countries[i] and parent[j] < 0]
        if same_country and g.random() < 0.2:
            parent[i] = int(g.choice(same_country))
            pair_of.append(fresh_pair(pair_of[parent[i]][0]))
        else:
            pair_of.append(fresh_pair())
    bases = [f"{first_words[a]} {names.SECTOR_WORDS[b]}" for a, b in pair_of]

    # Near-misses: the same base name in two countries belongs to two real customers.
    # Disjoint pairs of stand-alone customers, so a base never lands twice in a country.
    # A firm whose ERP keeps no customer country tells customers apart by subsidiary only:
    # its near-misses are in two entities (in one, they would be one customer to anybody).
    apart = (
        (lambda i, j: countries[i] != countries[j])
        if conv.customer_country_field
        else (lambda i, j: COUNTRY_ENTITY[countries[i]] != COUNTRY_ENTITY[countries[j]])
    )
    parents = set(parent)
    loners = [i for i in range(n) if parent[i] < 0 and i not in parents]
    shuffled = [int(x) for x in g.permutation(loners)]
    pairs_made = 0
    for i, j in zip(shuffled[::2], shuffled[1::2], strict=False):
        if pairs_made < max(1, n // 25) and apart(i, j):
            bases[j] = bases[i]
            pairs_made += 1

    rows = []
    start = params.start_date
    for i in range(n):
        country = countries[i]
        entity = COUNTRY_ENTITY[country]
        functional = ENTITY_BY_ID[entity].currency
        suffix = str(g.choice(LEGAL_SUFFIXES[country]))
        usd = entity != 1 and g.random() < USD_DEAL_SHARE
        name = f"{bases[i]} {suffix}"
        rows.append(
            {
                "cidx": i,
                "name": name,
                "base": bases[i],
                "suffix": suffix,
                "country": country,
                "entity": entity,
                "currency": "USD" if usd else functional,
                "parent": parent[i],
                "sf_id": ids.sf_id(ids.SF_ACCOUNT, i),
                "ns_id": ids.NS_CUSTOMER + i,
                "hv_id": ids.HV_CLIENT + i,
                "hv_name": name if g.random() < 0.7 else bases[i],
                "external_missing": bool(g.random() < 0.10),
                "created": _at(
                    start - timedelta(days=int(g.integers(30, 1500))), g.integers(0, 540)
                ),
                "weight": float(g.lognormal(0.0, 0.6)) * (1.5 if i in parents else 1.0),
            }
        )
    return pd.DataFrame(rows)


def build_users(params: FirmParams) -> pd.DataFrame:
    g = generator(params.seed, S_USERS)
    n = params.scale_spec.consultants
    rows = []
    taken: set[str] = set()
    for e, k in zip(ENTITIES, _split(n, [e.staff_share for e in ENTITIES], 4), strict=True):
        for role, m in zip(ROLES, _split(k, [r.staff_share for r in ROLES], 1), strict=True):
            for _ in range(m):
                while True:
                    first = str(g.choice(names.FIRST_NAMES[e.country]))
                    last = str(g.choice(names.LAST_NAMES[e.country]))
                    if f"{first} {last}" not in taken:
                        break
                taken.add(f"{first} {last}")
                rows.append(
                    {
                        "first": first,
                        "last": last,
                        "entity": e.id,
                        "office": e.office,
                        "timezone": e.timezone,
                        "role": role.code,
                        "role_name": role.name,
                        "currency": e.currency,
                        "cost_rate": round(role.cost[e.currency] * g.uniform(0.9, 1.1)),
                        "default_rate": role.rate[e.currency],
                        "is_contractor": bool(g.random() < 0.05),
                        "created": _at(
                            params.start_date - timedelta(days=int(g.integers(60, 2500))),
                            g.integers(0, 540),
                        ),
                    }
                )
    users = pd.DataFrame([rows[i] for i in g.permutation(len(rows))])
    users.insert(0, "uidx", np.arange(len(users)))
    users.insert(1, "hv_id", ids.HV_USER + users["uidx"])
    users["role_idx"] = users["role"].map(ROLE_INDEX)
    users["email"] = (users["first"] + "." + users["last"] + "@q2cgroup.com").str.lower()
    return users


def build_plan(params: FirmParams, horizon: date) -> Plan:
    customers = build_customers(params)
    users = build_users(params)
    opps, lines, assignments = _deals(params, customers, users, horizon)
    return Plan(params, horizon, customers, users, opps, lines, assignments)


def _deals(
    params: FirmParams, customers: pd.DataFrame, users: pd.DataFrame, horizon: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Week by week and entity by entity, win deals for the consultants about to be free.

    A deal staffs one or two consultants per role for its whole duration and starts no
    earlier than its team is free, so nobody is ever on two projects at once; roles are
    drawn in proportion to who is available, which keeps every role's utilisation close
    to the firm's (about 1 - IDLE_SHARE).
    """
    start = params.start_date
    start_o = start.toordinal()
    week0 = start_o - start.weekday()
    n_weeks = (horizon.toordinal() - week0) // 7 + 1

    g0 = generator(params.seed, S_DEALS, 0)
    free = {int(u): start_o + int(g0.integers(0, 10)) for u in users["uidx"]}
    role_of = dict(zip(users["uidx"], users["role"], strict=True))
    staff = {e.id: sorted(users.loc[users["entity"] == e.id, "uidx"].tolist()) for e in ENTITIES}
    cust_by_entity = {}
    for e in ENTITIES:
        c = customers[customers["entity"] == e.id]
        w = c["weight"].to_numpy()
        cust_by_entity[e.id] = (c["cidx"].to_numpy(), w / w.sum())
    cust = customers[["base", "entity", "currency"]].to_dict("records")
    # Firms that staff consultants across entities win some of an entity's deals with
    # another entity's customers (the time then counts for the customer's entity).
    cross_share = params.conventions.cross_entity_share
    cust_elsewhere = {}
    for e in ENTITIES:
        c = customers[customers["entity"] != e.id]
        w = c["weight"].to_numpy()
        cust_elsewhere[e.id] = (c["cidx"].to_numpy(), w / w.sum())

    opps: list[dict] = []
    lines: list[dict] = []
    assignments: list[dict] = []
    counters = {"line": 0, "contract": 0, "project": 0}

    def add_lines(
        g: np.random.Generator,
        oidx: int,
        currency: str,
        team: dict[str, int],
        workdays: int,
        base_name: str,
    ) -> int:
        total_cents = 0
        for code in ROLE_CODES:
            if code not in team:
                continue
            qty = max(
                5, int(round(team[code] * workdays * HOURS_PER_DAY * g.uniform(0.9, 1.1) / 5)) * 5
            )
            price = int(round(ROLE_BY_CODE[code].rate[currency] * g.choice(RATE_DEVIATIONS)))
            lines.append(
                {
                    "lidx": counters["line"],
                    "oidx": oidx,
                    "role": code,
                    "name": f"{base_name} {ROLE_BY_CODE[code].name}",
                    "qty": float(qty),
                    "unit_price": price,
                    "total": float(qty * price),
                }
            )
            counters["line"] += 1
            total_cents += qty * price * 100
        return total_cents

    def new_opp(g: np.random.Generator, cidx: int, close_o: int, won: bool) -> dict:
        c = cust[cidx]
        engagement = str(g.choice(names.ENGAGEMENTS))
        close_o = _workday_on_or_after(max(close_o, start_o))
        created = _at(date.fromordinal(close_o - int(g.integers(20, 91))), g.integers(0, 540))
        close_ts = datetime.combine(date.fromordinal(close_o), time(9, 0)) + timedelta(
            minutes=int(g.integers(0, 181))
        )
        oidx = len(opps)
        return {
            "oidx": oidx,
            "name": f"{c['base']} - {engagement}",
            "cidx": cidx,
            "entity": int(c["entity"]),
            "currency": c["currency"],
            "created": created,
            "close_date": date.fromordinal(close_o),
            "close_ts": close_ts,
            "won": won,
        }

    for w in range(n_weeks):
        ws = week0 + 7 * w
        for e in ENTITIES:
            g = generator(params.seed, S_DEALS, w + 1, e.id)
            avail = sorted(
                (u for u in staff[e.id] if free[u] <= ws + 14), key=lambda u: (free[u], u)
            )
            by_role = {code: deque(u for u in avail if role_of[u] == code) for code in ROLE_CODES}
            idle_target = max(1, round(IDLE_SHARE * len(staff[e.id])))
            cidxs, cweights = cust_by_entity[e.id]
            while sum(len(q) for q in by_role.values()) > idle_target:
                present = [code for code in ROLE_CODES if by_role[code]]
                counts = np.array([len(by_role[code]) for code in present], dtype=float)
                k = min(len(present), int(g.choice([1, 2, 3], p=[0.25, 0.45, 0.30])))
                picked = set(g.choice(present, size=k, replace=False, p=counts / counts.sum()))
                team: dict[str, list[int]] = {}
                for code in ROLE_CODES:
                    if code in picked:
                        two = (
                            code in ("CONSULTANT", "ANALYST")
                            and len(by_role[code]) >= 2
                            and g.random() < 0.25
                        )
                        team[code] = [by_role[code].popleft() for _ in range(2 if two else 1)]
                members = [u for us in team.values() for u in us]
                pool, weights = (
                    cust_elsewhere[e.id]
                    if cross_share and g.random() < cross_share
                    else (cidxs, cweights)
                )
                opp = new_opp(
                    g, int(g.choice(pool, p=weights)), ws + int(g.integers(0, 5)), won=True
                )
                close_o = opp["close_date"].toordinal()
                begin = _workday_on_or_after(
                    max(close_o + int(g.integers(3, 15)), max(free[u] for u in members))
                )
                end = _workday_on_or_before(begin + 7 * int(g.integers(6, 27)) - 1)
                for u in members:
                    free[u] = end + 1 + int(g.integers(0, 8))
                workdays = int(np.busday_count(date.fromordinal(begin), date.fromordinal(end + 1)))
                amount = add_lines(
                    g,
                    opp["oidx"],
                    opp["currency"],
                    {c: len(us) for c, us in team.items()},
                    workdays,
                    opp["name"],
                )
                project_id = ids.HV_PROJECT + counters["project"]
                opp.update(
                    {
                        "fixed_fee": bool(g.random() < 0.2),
                        "amount_cents": amount,
                        "contract_idx": counters["contract"],
                        "start": date.fromordinal(begin),
                        "end": date.fromordinal(end),
                        "project_id": project_id,
                        "project_created": opp["close_ts"]
                        + timedelta(hours=4, days=int(g.integers(0, 3))),
                    }
                )
                counters["contract"] += 1
                counters["project"] += 1
                opps.append(opp)
                for code, us in team.items():
                    for u in us:
                        assignments.append(
                            {
                                "oidx": opp["oidx"],
                                "project_id": project_id,
                                "uidx": u,
                                "role": code,
                                "start": opp["start"],
                                "end": opp["end"],
                            }
                        )
                if g.random() < 0.67:
                    lost = new_opp(
                        g, int(g.choice(cidxs, p=cweights)), ws + int(g.integers(0, 5)), won=False
                    )
                    lost_team = {
                        str(c): 1
                        for c in g.choice(ROLE_CODES, size=int(g.integers(1, 4)), replace=False)
                    }
                    lost["amount_cents"] = add_lines(
                        g,
                        lost["oidx"],
                        lost["currency"],
                        lost_team,
                        int(g.integers(25, 120)),
                        lost["name"],
                    )
                    lost["fixed_fee"] = False
                    opps.append(lost)

    opp_df = pd.DataFrame(opps)
    opp_df.insert(1, "sf_id", ids.sf_ids(ids.SF_OPPORTUNITY, opp_df["oidx"].to_numpy()))
    opp_df["won"] = opp_df["won"].astype(bool)
    opp_df["project_id"] = opp_df["project_id"].fillna(-1).astype(np.int64)
    contract = opp_df["contract_idx"].fillna(-1).astype(np.int64).to_numpy()
    opp_df["contract_sf_id"] = np.where(
        contract >= 0, ids.sf_ids(ids.SF_CONTRACT, np.maximum(contract, 0)), None
    )
    opp_df["contract_number"] = [f"{100 + c:08d}" if c >= 0 else None for c in contract]
    opp_df = opp_df.drop(columns="contract_idx")
    line_df = pd.DataFrame(lines)
    line_df.insert(1, "sf_id", ids.sf_ids(ids.SF_LINE_ITEM, line_df["lidx"].to_numpy()))
    line_df["role_idx"] = line_df["role"].map(ROLE_INDEX)
    assignment_df = pd.DataFrame(assignments)
    assignment_df["role_idx"] = assignment_df["role"].map(ROLE_INDEX)
    return opp_df, line_df, assignment_df
