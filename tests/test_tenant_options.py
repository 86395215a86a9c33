"""Firms that differ from the simulated one, said in the tenant profile alone: a Salesforce org
without multi-currency and with standard fields hidden (the queries never name them and the
whole refresh builds), and a firm whose profile leaves an office and its own stage names
unmapped and whose consultants' time counts for the project's customer (warnings, never a
failed build, and no drift where the books agree)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from pipelines.cli import run_config
from pipelines.defs.ingest.crm.objects import crm_objects
from pipelines.defs.ingest.erp.objects import erp_tables
from pipelines.lib.tenant import SALESFORCE_STAGES, load_tenant
from pipelines.settings import Settings
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from simulator.harness.score import open_exceptions, open_ground_truth, score
from tests.conftest import AS_OF
from tests.support import failed_steps

PROFILE = """\
name: single-currency-org
crm:
  currency: EUR
  absent_fields: [Opportunity.ContractId, Account.ParentId]
links:
  # no billing-country custom field on NetSuite customers: their subsidiary's country
  customer_country: {via: subsidiary}
"""


def test_absent_fields_are_left_out_of_the_queries_and_the_build_completes(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "org.yml"
    profile.write_text(PROFILE, encoding="utf-8")
    tenant = load_tenant(profile)
    fields = {
        sobject: {f.name for f in contract.fields}
        for sobject, contract in crm_objects(tenant).values()
    }
    assert "CurrencyIsoCode" not in set().union(*fields.values())
    assert "ContractId" not in fields["Opportunity"] and "ParentId" not in fields["Account"]
    assert {"Id", "Amount", "StageName", "SystemModstamp"} <= fields["Opportunity"]

    from pipelines.definitions import defs

    settings = Settings.resolve(data_dir=tmp_path / "data", as_of=AS_OF, tenant_profile=profile)
    params = FirmParams(seed=5, scale="small", as_of=AS_OF, problem_rate=0.03)
    with simulated_sources(tmp_path / "firm.duckdb", params), DagsterInstance.ephemeral() as i:
        result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
            instance=i, run_config=run_config(settings), raise_on_error=False
        )
    assert result.success, failed_steps(result)

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        raw = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw_crm' and table_name = 'opportunities'"
            ).fetchall()
        }
        assert "contract_id" not in raw and "currency_iso_code" not in raw
        customer_columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw_erp' and table_name = 'customer'"
            ).fetchall()
        }
        assert "custentity_billing_country" not in customer_columns
        # every ERP customer of the master has its subsidiary's country
        total, with_subsidiary_country = con.execute(
            """select count(*), count(case when r.country_code = s.country then 1 end)
               from intermediate.int_customers__source_records r
               left join staging.stg_netsuite__customers c
                   on r.source_record_id = cast(c.customer_id as varchar)
               left join staging.stg_netsuite__subsidiaries s
                   on c.subsidiary_id = s.subsidiary_id
               where r.source_system = 'erp'"""
        ).fetchone()
        assert total > 0 and with_subsidiary_country == total
        deals = con.execute(
            "select count(*), count(contract_id), list(distinct currency) "
            "from staging.stg_salesforce__opportunities"
        ).fetchone()
        assert deals[0] > 0 and deals[1] == 0 and deals[2] == ["EUR"]
        # the deals still reach the canonical layer, in the org's currency
        assert (
            con.execute(
                "select count(*) from canonical.quote_to_cash where currency = 'EUR'"
            ).fetchone()[0]
            > 0
        )
    finally:
        con.close()


GAPS = """\
name: vocabulary-gaps
links:
  consultant_entity: {via: project_customer}
vocabulary:
  # London, where twelve of the simulated firm's consultants work, is not mapped
  offices: {"New York, NY": US, New York: US, Berlin: DE, Munich: DE, Paris: FR, Amsterdam: NL}
  roles:
    - {name: Partner, code: PARTNER, erp_item: PARTNER}
    - {name: Senior Consultant, code: SENIOR_CONSULTANT, erp_item: SENIOR_CONSULTANT}
    - {name: Consultant, code: CONSULTANT, erp_item: CONSULTANT}
    - {name: Analyst, code: ANALYST, erp_item: ANALYST}
  # nor are the firm's own stages Proposal and Negotiation
  stages: {}
"""


def test_unmapped_vocabulary_is_a_warning_and_time_counts_where_it_is_invoiced(
    tmp_path: Path,
) -> None:
    from pipelines.definitions import defs

    profile = tmp_path / "gaps.yml"
    profile.write_text(GAPS, encoding="utf-8")
    settings = Settings.resolve(data_dir=tmp_path / "data", as_of=AS_OF, tenant_profile=profile)
    firm = tmp_path / "firm.duckdb"
    params = FirmParams(seed=5, scale="small", as_of=AS_OF, problem_rate=0.03)
    with simulated_sources(firm, params) as sim, DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
            instance=instance, run_config=run_config(settings), raise_on_error=False
        )
        london = {
            str(r[0])
            for r in sim.firm.execute(
                "select id from hv_users where list_contains(roles, 'London')"
            ).fetchall()
        }
        stages = {
            r[0]
            for r in sim.firm.execute("select distinct StageName from sf_opportunity").fetchall()
        }
    truth = open_ground_truth(firm)  # the firm's file, closed with its server
    assert result.success, failed_steps(result)
    assert london

    # the words to add to the profile are warnings, one row per word
    warned = {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in json.loads((settings.dbt_target_dir / "run_results.json").read_text())["results"]
        if r["status"] == "warn"
    }
    assert warned["unmapped_values_resources_unmapped_roles"] == 1  # London
    stage_test = next(k for k in warned if k.startswith("unmapped_values_stg_salesforce__op"))
    firm_words = stages - set(SALESFORCE_STAGES)
    assert firm_words and warned[stage_test] == len(firm_words)  # e.g. Proposal, Negotiation

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        unmapped = dict(
            con.execute(
                "select source_record_id, unmapped_roles from canonical.resources "
                "where unmapped_roles is not null"
            ).fetchall()
        )
        coverage = con.execute(
            "select linked_count, population, is_below_minimum from reconciliation.link_coverage "
            "where link = 'consultant_entity'"
        ).fetchone()
    finally:
        con.close()
    assert set(unmapped) == london and set(unmapped.values()) == {"London"}
    # time follows the customer, so the consultant link is the projects' customers' entities:
    # consultants without an office take nothing from it
    assert coverage[0] == coverage[1] > 0 and not coverage[2]

    # time counts for the entity of the customer it is invoiced to: the consultants without an
    # office leave the figures as they were, and reporting drift is exactly what was planted
    (drift,) = [
        s
        for s in score(open_exceptions(settings.warehouse_path), truth)
        if s.exception_type == "reporting_drift"
    ]
    assert drift.expected > 0
    assert (drift.precision, drift.recall) == (1.0, 1.0)


def test_the_suiteql_names_the_profiles_fields_and_types_only(tmp_path: Path) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text(
        "name: acme\n"
        "links:\n"
        "  billed_time_invoice: {erp_field: otherrefnum}\n"
        "erp_fields: {transaction_deal: custbody_deal, line_project: custcol_job}\n"
        "erp_transaction_types: [SalesOrd, CustInvc, CustCred]\n"
        "tax: {header_level_countries: [US]}\n",
        encoding="utf-8",
    )
    tables = erp_tables(load_tenant(profile))
    transaction = tables["transaction"]
    assert "custbody_deal" in transaction.query and "otherrefnum" in transaction.query
    assert "custbody_sf_opportunity_id" not in transaction.query
    assert "AND type IN ('SalesOrd', 'CustInvc', 'CustCred')" in transaction.query
    assert {"custbody_deal", "otherrefnum"} <= {f.name for f in transaction.contract.fields}
    assert "custcol_job" in tables["transactionline"].query
    # an entity with tax on the header: its tax item and total, and each line's taxable flag
    assert {"taxitem", "taxtotal"} <= {f.name for f in transaction.contract.fields}
    assert "istaxable" in tables["transactionline"].query
    # the simulated firm's profile reads the document number, no reference field, no header tax
    defaults = erp_tables(load_tenant())
    default = defaults["transaction"].query
    assert "otherrefnum" not in default and "custbody_sf_opportunity_id" in default
    assert "taxitem" not in default and "istaxable" not in defaults["transactionline"].query
