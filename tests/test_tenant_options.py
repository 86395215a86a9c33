"""A firm whose Salesforce org lacks what the simulated firm's has: multi-currency off (no
CurrencyIsoCode) and standard fields hidden from the integration user. Said in the tenant
profile, the queries never name those fields and the whole refresh builds."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import DagsterInstance

from pipelines.cli import run_config
from pipelines.defs.ingest.crm.objects import crm_objects
from pipelines.lib.tenant import load_tenant
from pipelines.settings import Settings
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.support import failed_steps

PROFILE = """\
name: single-currency-org
crm:
  currency: EUR
  absent_fields: [Opportunity.ContractId, Account.ParentId]
"""


def test_absent_crm_fields_are_left_out_of_the_queries_and_the_build_completes(
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
