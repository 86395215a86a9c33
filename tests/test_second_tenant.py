"""The second simulated firm, "atelier": the same kind of business, written down with other
conventions at every point the tenant profile names (simulator/firm/tenants.py), read through
its own profile alone (pipelines/tenants/atelier.yml). Every planted problem is found, and
only those, on the first run and after the firm has moved on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.tenant import DEFAULT_PROFILE
from pipelines.settings import patched_environ
from simulator.firm import FirmParams, advance
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.reconciliation.helpers import (
    EXCEPTION_TYPES,
    OPEN_EXCEPTIONS,
    OPEN_GROUND_TRUTH,
    Key,
    by_type,
    keys,
    query,
)
from tests.support import failed_steps, run_refresh_job

ADVANCES = (7, 7)


@dataclass
class Run:
    found: set[Key]
    truth: set[Key]
    failed: list[str]


@dataclass
class Atelier:
    warehouse: Path
    first: Run
    second: Run


def _run(sim: object, warehouse: Path) -> Run:
    result = run_refresh_job()
    return Run(
        keys(query(warehouse, OPEN_EXCEPTIONS)),
        keys(sim.firm.execute(OPEN_GROUND_TRUTH).fetchall()),
        failed_steps(result),
    )


@pytest.fixture(scope="module")
def atelier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atelier]:
    data_dir = tmp_path_factory.mktemp("q2c-atelier")
    params = FirmParams(seed=11, scale="small", as_of=AS_OF, problem_rate=0.03, tenant="atelier")
    firm = data_dir / "simulator" / "firm.duckdb"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm, params) as sim:
        assert sim.env["Q2C_TENANT_PROFILE"].endswith("atelier.yml")
        first = _run(sim, data_dir / "warehouse.duckdb")
        for days in ADVANCES:
            advance(sim.firm, days=days)
        second = _run(sim, data_dir / "warehouse.duckdb")
        yield Atelier(data_dir / "warehouse.duckdb", first, second)


def test_the_refresh_builds_from_the_profile_alone(atelier: Atelier) -> None:
    assert atelier.first.failed == [] and atelier.second.failed == []


def test_every_planted_problem_is_found_and_only_those(atelier: Atelier) -> None:
    # every exception type is planted at least once, so every one is scored
    assert {k[0] for k in atelier.first.truth} == EXCEPTION_TYPES
    assert by_type(atelier.first.found, atelier.first.truth) == {}


def test_after_advance_too(atelier: Atelier) -> None:
    assert atelier.second.truth != atelier.first.truth
    assert by_type(atelier.second.found, atelier.second.truth) == {}


def test_the_links_are_the_firms_own(atelier: Atelier) -> None:
    """What makes the tenant different reached the warehouse: the rules above ran on it."""
    codes_are_deals = (
        "select count(*) from raw_psa.projects p join raw_crm.opportunities o on o.id = p.code"
    )
    assert query(atelier.warehouse, codes_are_deals) == [(0,)]
    columns = {
        r[0]
        for r in query(
            atelier.warehouse,
            "select column_name from information_schema.columns where table_schema = 'raw_erp'",
        )
    }
    assert {"custbody_crm_deal_ref", "custcol_harvest_job", "otherrefnum"} <= columns
    assert "custbody_sf_opportunity_id" not in columns
    assert "custentity_billing_country" not in columns
    # every link the profile declares covers what it should
    coverage = query(
        atelier.warehouse, "select link, coverage from reconciliation.link_coverage order by 1"
    )
    assert coverage and all(c >= 0.9 for _, c in coverage), coverage
    # consultants whose billable time counts for more than one entity (staffed across them)
    (staffed_across,) = query(
        atelier.warehouse,
        """select count(*) from (
               select user_id from canonical.time_entries where is_billable_project
               group by user_id having count(distinct legal_entity_id) > 1)""",
    )[0]
    assert staffed_across > 0
    # and its vocabulary is all mapped: every stage and Harvest role is in the profile
    unmapped = query(
        atelier.warehouse,
        """select
               (select count(*) from staging.stg_salesforce__opportunities
                where stage_name not in (select stage_name from lookups.lookup_stages)),
               (select count(*) from canonical.resources where unmapped_roles is not null),
               (select count(*) from canonical.time_entries where role_code is null
                and is_billable_project)""",
    )
    assert unmapped == [(0, 0, 0)]


def test_doctor_passes_it_on_its_profile_and_names_each_mismatch_on_the_other(
    atelier: Atelier, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    # the first firm's profile names fields this firm's systems do not have
    with patched_environ({"Q2C_TENANT_PROFILE": str(DEFAULT_PROFILE)}):
        code = main(["doctor"])
    failed = {
        line.split(":")[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("FAIL")
    }
    assert code == 1
    assert set(failed) == {
        "FAIL crm accounts",
        "FAIL erp customer",
        "FAIL erp transaction",
        "FAIL erp transactionline",
    }, failed
    # each with the vendor's own words, naming the field, and the setting to change
    for resource, field in (
        ("FAIL crm accounts", "No such column 'ParentId' on entity 'Account'"),
        ("FAIL erp customer", "custentity_billing_country"),
        ("FAIL erp transaction", "custbody_sf_opportunity_id"),
        ("FAIL erp transactionline", "custcol_psa_project_id"),
    ):
        assert field in failed[resource], failed[resource]
        assert "Q2C_TENANT_PROFILE" in failed[resource], failed[resource]


def test_time_is_compared_with_the_invoice_that_billed_it(atelier: Atelier) -> None:
    """The firm dates an invoice the day it is raised, in the month after the work, and
    corrects a wrong invoice by crediting it in full and issuing it again under the same
    Harvest number: billed time pairs with the live invoice, wherever it posts."""
    invoiced_later = query(
        atelier.warehouse,
        """select count(*) from intermediate.int_reconciliation__billed_time_invoices b
           join canonical.time_entries t on t.time_entry_id = b.time_entry_id
           join canonical.periods p on p.period_id = b.invoice_period_id
           where b.is_paired and t.spent_date < p.start_date""",
    )
    assert invoiced_later[0][0] > 0
    rebilled = query(
        atelier.warehouse,
        """select void.invoice_id, live.invoice_id
           from canonical.invoices void
           join canonical.invoices live
             on live.psa_invoice_number = void.psa_invoice_number
            and live.invoice_id <> void.invoice_id and live.invoice_type = 'invoice'
           where void.is_credited_in_full and not live.is_credited_in_full""",
    )
    assert rebilled, "no credit-and-rebill after the advances"
    paired = {
        r[0]
        for r in query(
            atelier.warehouse,
            "select distinct invoice_id from intermediate.int_reconciliation__billed_time_invoices",
        )
    }
    assert all(live in paired and void not in paired for void, live in rebilled), rebilled


def test_the_us_entity_carries_tax_on_the_header(atelier: Atelier) -> None:
    """Lines of the US entity's invoices have no tax code of their own: the header's tax item
    applies to the taxable ones, and a header without one leaves them without a code."""
    levels = dict(
        query(
            atelier.warehouse,
            "select tax_level, count(*) from canonical.invoice_lines "
            "where invoice_type = 'invoice' group by tax_level",
        )
    )
    assert levels.get("header", 0) > 0 and levels.get("line", 0) > 0, levels
    (own_codes,) = query(
        atelier.warehouse,
        """select count(*) from staging.stg_netsuite__transaction_lines l
           join staging.stg_netsuite__transactions t on t.transaction_id = l.transaction_id
           join staging.stg_netsuite__subsidiaries s on s.subsidiary_id = t.subsidiary_id
           where s.country = 'US' and t.transaction_type = 'CustInvc' and l.tax_code_id is not null""",
    )[0]
    assert own_codes == 0
    # a taxable header-level line has exactly its header's tax item; one without is an exception
    wrong, untaxed, flagged = query(
        atelier.warehouse,
        """select
               count(*) filter (where l.tax_code_id is distinct from t.header_tax_code_id),
               count(*) filter (where l.tax_code_id is null and not l.is_credited_in_full),
               (select count(*) from reconciliation.missing_tax_codes m
                join canonical.invoice_lines h on h.invoice_line_id = m.invoice_line_id
                where h.tax_level = 'header')
           from canonical.invoice_lines l
           join intermediate.int_erp_transactions t on t.transaction_id = l.invoice_id
           where l.tax_level = 'header' and l.is_taxable and l.invoice_type = 'invoice'""",
    )[0]
    assert wrong == 0 and untaxed == flagged, (wrong, untaxed, flagged)


def test_a_deal_booked_on_several_orders_with_tax_is_compared_net(atelier: Atelier) -> None:
    """Each line item is booked on a sales order of its own, with VAT in its total: the deal's
    orders together, net of tax, are what booking drift compares, and what its contract shows."""
    split = query(
        atelier.warehouse,
        """with orders as (
               select t.opportunity_id, count(*) as n, sum(t.total_amount) as total,
                      sum(l.net) as net
               from staging.stg_netsuite__transactions t
               join (select transaction_id, sum(net_amount) as net
                     from staging.stg_netsuite__transaction_lines group by 1) l
                 on l.transaction_id = t.transaction_id
               where t.transaction_type = 'SalesOrd' and not t.is_deleted
               group by 1)
           select o.opportunity_id, orders.n
           from staging.stg_salesforce__opportunities o
           join orders on orders.opportunity_id = o.opportunity_id
           where o.is_won and orders.n > 1 and orders.net = o.amount and orders.total <> o.amount""",
    )
    assert split, "no deal booked on several orders with tax"
    drifting = {
        r[0]
        for r in query(atelier.warehouse, "select opportunity_id from reconciliation.booking_drift")
    }
    assert not drifting & {deal for deal, _ in split}
    contracts = dict(
        query(
            atelier.warehouse,
            "select opportunity_id, sales_order_count from canonical.contracts "
            "where sales_order_count > 1",
        )
    )
    assert contracts and all(contracts[d] == n for d, n in split if d in contracts), contracts
