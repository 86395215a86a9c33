"""The customer master: planted duplicates end as one golden customer, real customers never merge.

The real customer behind every source record comes from the simulator's own plan (which
customer each CRM, ERP and PSA id was generated for) and its ground truth (which record a
planted duplicate copies), never from the warehouse's matching.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from simulator.firm import FirmParams
from simulator.firm.plan import INTERNAL_CLIENT_ID, build_customers
from tests.support import BuiltWarehouse

Query = Callable[[str], list[tuple]]
Record = tuple[str, str]  # (source_system, source_record_id)

PAIR_NOTE = re.compile(r"^(?:accounts|customers) (\S+) and (\S+):")


def planted_duplicate_pairs(firm: Query) -> list[tuple[str, set[str]]]:
    """(system, {ids}) of every duplicate pair the simulator planted, open or resolved."""
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for system, record_id, note in firm(
        """select source_system, source_record_id, note from sim_ground_truth
           where exception_type = 'duplicate_customer'"""
    ):
        match = PAIR_NOTE.match(note)
        assert match, note
        pairs[(system, f"{match[1]}|{match[2]}")].add(record_id)
    return [(system, ids) for (system, _), ids in sorted(pairs.items())]


def crosswalk(query: Query) -> dict[Record, str]:
    return {
        (system, record_id): customer
        for system, record_id, customer in query(
            "select source_system, source_record_id, customer_id from canonical.customer_crosswalk"
        )
    }


def live_source_records(query: Query) -> set[Record]:
    """Every customer record its source still has (deletes left out), from the raw tables."""
    rows = query(
        """select 'crm', id from raw_crm.accounts
           where not coalesce(is_deleted, false) and _deleted_at is null
           union all select 'erp', id from raw_erp.customer where _deleted_at is null
           union all
           select 'psa', cast(id as varchar) from raw_psa.clients where _deleted_at is null"""
    )
    return {(system, str(record_id)) for system, record_id in rows}


def real_customers(firm: Query) -> dict[Record, str]:
    """The real customer (plan index) of every source id the simulator generated or planted."""
    params = FirmParams.from_meta(dict(firm("select key, value from sim_meta")))
    plan = build_customers(params)
    real: dict[Record, str] = {("psa", str(INTERNAL_CLIENT_ID)): "internal"}
    for row in plan.itertuples():
        real[("crm", row.sf_id)] = real[("erp", str(row.ns_id))] = str(row.cidx)
        real[("psa", str(row.hv_id))] = str(row.cidx)
    pending = planted_duplicate_pairs(firm)
    while pending:  # a duplicate can itself be copied again: resolve pairs until none is left
        left = []
        for system, ids in pending:
            originals = {real[(system, i)] for i in ids if (system, i) in real}
            assert len(originals) <= 1, (system, ids, originals)
            if originals:
                original = originals.pop()
                for i in ids:
                    real.setdefault((system, i), original)
            else:
                left.append((system, ids))
        assert len(left) < len(pending), f"duplicates of records nobody generated: {left}"
        pending = left
    return real


def check_planted_duplicates_merged(query: Query, firm: Query) -> int:
    xwalk = crosswalk(query)
    live = live_source_records(query)
    checked = 0
    for system, ids in planted_duplicate_pairs(firm):
        members = {(system, i) for i in ids} & live
        missing = members - set(xwalk)
        assert not missing, f"not in the crosswalk: {missing}"
        golden = {xwalk[m] for m in members}
        assert len(golden) == 1, f"{system} duplicates {sorted(ids)} are {len(golden)} customers"
        checked += len(members) > 1
    return checked


def check_no_real_customers_merged(query: Query, firm: Query) -> None:
    """A golden customer holds two CRM accounts (or two ERP customers) only when they are a
    planted duplicate pair, and its records all belong to one real customer; every real customer
    is one golden customer."""
    xwalk = crosswalk(query)
    pairs = planted_duplicate_pairs(firm)
    pair_of = {(system, i): frozenset(ids) for system, ids in pairs for i in ids}
    by_golden: dict[str, list[Record]] = defaultdict(list)
    for record, customer in xwalk.items():
        by_golden[customer].append(record)
    for customer, records in by_golden.items():
        for system in ("crm", "erp"):
            same = sorted(r for r in records if r[0] == system)
            for a in same[1:]:
                assert pair_of.get(a) is not None and pair_of.get(a) == pair_of.get(same[0]), (
                    f"golden customer {customer} merges {system} records {same}"
                )
    real = real_customers(firm)
    unknown = set(xwalk) - set(real)
    assert not unknown, f"source records the simulator did not generate: {sorted(unknown)[:5]}"
    golden_of_real: dict[str, set[str]] = defaultdict(set)
    for customer, records in by_golden.items():
        reals = {real[r] for r in records}
        assert len(reals) == 1, f"golden customer {customer} merges {reals}: {records}"
        golden_of_real[reals.pop()].add(customer)
    split = {r: g for r, g in golden_of_real.items() if len(g) > 1}
    assert not split, f"real customers split over several golden customers: {split}"


def test_every_live_source_record_is_in_the_crosswalk(built_warehouse: BuiltWarehouse) -> None:
    live = live_source_records(built_warehouse.query)
    assert live == set(crosswalk(built_warehouse.query))


def test_planted_duplicates_are_one_golden_customer(built_warehouse: BuiltWarehouse) -> None:
    merged = check_planted_duplicates_merged(built_warehouse.query, built_warehouse.firm)
    assert merged >= 2, "the fixture firm should plant a CRM and an ERP duplicate pair"


def test_no_two_real_customers_are_merged(built_warehouse: BuiltWarehouse) -> None:
    check_no_real_customers_merged(built_warehouse.query, built_warehouse.firm)


def test_same_name_in_two_countries_is_two_customers(built_warehouse: BuiltWarehouse) -> None:
    pairs = built_warehouse.query(
        """select a.customer_id, b.customer_id
           from canonical.customers as a
           join canonical.customers as b
             on a.normalized_name = b.normalized_name and a.country_code < b.country_code"""
    )
    assert pairs, "the fixture firm should hold a base name in two countries"
    assert all(a != b for a, b in pairs)


def test_erp_carries_the_billing_attributes(built_warehouse: BuiltWarehouse) -> None:
    (wrong,) = built_warehouse.query(
        """select count(*)
           from canonical.customers as c
           join staging.stg_netsuite__customers as e on e.customer_id = c.erp_customer_id
           join staging.stg_netsuite__currencies as k on k.currency_id = e.currency_id
           where c.legal_entity_id <> e.subsidiary_id or c.currency <> k.currency"""
    )[0]
    assert wrong == 0
    (internal,) = built_warehouse.query(
        "select count(*) from canonical.customers where is_internal"
    )[0]
    assert internal == 1
