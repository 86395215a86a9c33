"""The exception queue against the simulator's ground truth, on the shared seed-7 warehouse."""

from __future__ import annotations

import pytest

from tests.reconciliation.helpers import (
    EXCEPTION_TYPES,
    OPEN_EXCEPTIONS,
    OPEN_GROUND_TRUTH,
    by_type,
    keys,
    precision_recall,
)
from tests.support import BuiltWarehouse, failed_steps

MARTS = {
    "unbilled_approved_time": "unbilled_approved_time",
    "billed_time_missing_invoice": "billed_time_missing_invoice",
    "missing_tax_codes": "missing_tax_code",
    "invoice_rate_variance": "invoice_rate_variance",
    "booking_drift": "booking_drift",
    "projects_without_contract": "project_without_contract",
    "duplicate_customers": "duplicate_customer",
    "invoice_currency_mismatch": "invoice_currency_mismatch",
    "reporting_drift": "reporting_drift",
}


def test_job_succeeded(built_warehouse: BuiltWarehouse) -> None:
    result = built_warehouse.result
    assert failed_steps(result) == []


def test_open_exceptions_are_the_open_ground_truth(built_warehouse: BuiltWarehouse) -> None:
    found = keys(built_warehouse.query(OPEN_EXCEPTIONS))
    expected = keys(built_warehouse.firm(OPEN_GROUND_TRUTH))
    # generate plants every class at least once, so every type is scored
    assert {k[0] for k in expected} == EXCEPTION_TYPES
    assert by_type(found, expected) == {}
    assert all(p == r == 1.0 for p, r in precision_recall(found, expected).values())


def test_every_exception_is_traceable_and_valued(built_warehouse: BuiltWarehouse) -> None:
    missing = built_warehouse.query(
        """select exception_type, source_record_id from reconciliation.exceptions
           where legal_entity_id is null or legal_entity is null or period is null
              or currency is null or amount is null or amount_functional is null
              or amount_reporting is null or reporting_currency <> 'USD'
              or first_detected_at is null or details is null"""
    )
    assert missing == []


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_each_mart_feeds_the_queue(built_warehouse: BuiltWarehouse, mart: str) -> None:
    exception_type = MARTS[mart]
    where = "where is_contract_reason" if mart == "reporting_drift" else ""
    in_mart = keys(
        built_warehouse.query(
            f"select distinct exception_type, source_system, source_record_id "
            f"from reconciliation.{mart} {where}"
        )
    )
    in_queue = {k for k in keys(built_warehouse.query(OPEN_EXCEPTIONS)) if k[0] == exception_type}
    assert in_mart == in_queue


def test_only_contract_reasons_raise_reporting_drift(built_warehouse: BuiltWarehouse) -> None:
    """Bookings vs sales orders (and frozen-figure changes) stay in the mart: a period drifting
    only for them is not a reporting_drift exception."""
    other_only = built_warehouse.query(
        """select source_record_id from reconciliation.reporting_drift
           group by source_record_id having not bool_or(is_contract_reason)"""
    )
    assert other_only, "seed 7 has re-scoped deals, whose bookings no longer match the orders"
    queued = {
        r[0]
        for r in built_warehouse.query(
            "select source_record_id from reconciliation.exceptions where exception_type = 'reporting_drift'"
        )
    }
    assert not {r[0] for r in other_only} & queued


def test_month_end_variance_ties_to_the_canonical_layer(built_warehouse: BuiltWarehouse) -> None:
    ((booked, billed, collected),) = built_warehouse.query(
        """select sum(booked_reporting), sum(billed_reporting), sum(collected_reporting)
           from reconciliation.month_end_variance"""
    )
    ((q2c_booked,),) = built_warehouse.query(
        "select sum(booked_amount_reporting) from canonical.quote_to_cash"
    )
    ((invoiced,),) = built_warehouse.query(
        "select sum(net_amount_reporting) from canonical.invoices where invoice_type = 'invoice'"
    )
    ((paid,),) = built_warehouse.query("select sum(amount_reporting) from canonical.payments")
    assert (booked, billed, collected) == (q2c_booked, invoiced, paid)
    # the open month is not invoiced yet: material by construction, and flagged
    ((flagged,),) = built_warehouse.query(
        """select count(*) from reconciliation.month_end_variance
           where is_material and not is_period_closed"""
    )
    assert flagged > 0


def test_kpis_cover_every_family(built_warehouse: BuiltWarehouse) -> None:
    kpis = {r[0] for r in built_warehouse.query("select distinct kpi from reconciliation.kpis")}
    assert {
        "closed_won_to_project_days",
        "approval_to_invoice_days",
        "invoice_to_payment_days",
        "dso_days",
        "realization_pct",
        "open_exceptions",
    } <= kpis
    ((realization,),) = built_warehouse.query(
        """select avg(realization_pct) from reconciliation.kpi_cycle_times
           where is_period_closed and realization_pct is not null"""
    )
    assert 90 < realization <= 105
