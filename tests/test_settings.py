"""A run's settings are the run's own: its data folder and as-of date come from its run config
(the ``settings`` resource), never from what the process's environment said when the
definitions were loaded."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines.cli import main, run_config
from pipelines.settings import Settings, SettingsError, patched_environ
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.support import failed_steps


def _unbilled(warehouse: Path) -> list[tuple[str, date, int]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            """select period, spent_date, age_days
               from reconciliation.unbilled_approved_time"""
        ).fetchall()
    finally:
        con.close()


def test_two_runs_in_one_process_keep_their_own_folders_and_dates(tmp_path: Path) -> None:
    from pipelines.definitions import defs

    params = FirmParams(seed=3, scale="small", as_of=AS_OF, problem_rate=0.03)
    early = Settings.resolve(data_dir=tmp_path / "early", as_of=AS_OF)
    late = Settings.resolve(data_dir=tmp_path / "late", as_of=AS_OF + timedelta(days=60))
    job = defs.resolve_job_def("refresh_warehouse")
    # The environment names a third folder and date: neither run may use them.
    elsewhere = {"Q2C_DATA_DIR": str(tmp_path / "elsewhere"), "Q2C_AS_OF_DATE": "2025-01-31"}
    with simulated_sources(tmp_path / "firm.duckdb", params), patched_environ(elsewhere):
        for settings in (early, late):
            with DagsterInstance.ephemeral() as instance:
                result = job.execute_in_process(
                    instance=instance, run_config=run_config(settings), raise_on_error=False
                )
            assert result.success, failed_steps(result)

    assert not (tmp_path / "elsewhere").exists()
    by_run = {}
    for settings in (early, late):
        assert settings.warehouse_path.exists() and settings.analytics_path.exists()
        assert (settings.dbt_target_dir / "run_results.json").exists()
        rows = _unbilled(settings.warehouse_path)
        assert rows
        # aged from the day worked to the run's own as-of date
        assert all(age == (settings.as_of - spent).days for _, spent, age in rows)
        by_run[settings.as_of] = {month for month, _, _ in rows}
    # 60 days on, November is past its grace period too: its unbilled time is now due
    assert by_run[early.as_of] < by_run[late.as_of]
    assert "2026-11" in by_run[late.as_of] - by_run[early.as_of]


def test_a_date_that_is_no_date_is_one_line_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with patched_environ({"Q2C_AS_OF_DATE": "2026-13-45"}):
        with pytest.raises(SettingsError, match="Q2C_AS_OF_DATE='2026-13-45'"):
            Settings.from_env()
        assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "q2c run: Q2C_AS_OF_DATE='2026-13-45' is not a date: use YYYY-MM-DD"


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (
            "name: acme\nlinks:\n  project_deal: {via: project_name}\n",
            "links.project_deal: via project_name needs a pattern (the Opportunity Id in the name)",
        ),
        (
            "name: acme\nlinks:\n  billed_time_invoice: {erp_field: memo}\n",
            "links.billed_time_invoice.erp_field: Input should be 'tranid', 'otherrefnum' or "
            "'externalid'",
        ),
        (
            # Python's re takes a lookahead; DuckDB's RE2, which runs the pattern, does not
            "name: acme\nlinks:\n  project_deal: {via: project_name, pattern: '(?=006)\\w+'}\n",
            "links.project_deal.pattern: not a regular expression DuckDB takes (invalid perl "
            "operator: (?=)",
        ),
        ("name: acme\nerp_feilds: {}\n", "erp_feilds: Extra inputs are not permitted"),
        (
            "name: acme\nvocabulary:\n  offices: {Zürich: Switzerland}\n",
            "vocabulary.offices: office 'Zürich': 'Switzerland' is not an ISO country code",
        ),
        (
            "name: acme\nerp_transaction_types: [CustInvc, Journal]\n",
            "erp_transaction_types: must include SalesOrd (q2c reconciles them)",
        ),
        ("name: acme\nlinks: [\n", "not YAML at line 3"),
    ],
    ids=[
        "pattern-missing",
        "unknown-field",
        "lookahead",
        "misspelt-key",
        "country",
        "types",
        "yaml",
    ],
)
def test_a_wrong_tenant_profile_stops_the_run_in_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: str, message: str
) -> None:
    path = tmp_path / "acme.yml"
    path.write_text(profile, encoding="utf-8")
    with patched_environ({"Q2C_TENANT_PROFILE": str(path), "Q2C_DATA_DIR": str(tmp_path)}):
        with pytest.raises(SettingsError, match="Q2C_TENANT_PROFILE="):
            Settings.from_env()
        assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"q2c run: Q2C_TENANT_PROFILE={path.resolve()}: {message}"
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_tenant_profile_reaches_dbt_as_vars(tmp_path: Path) -> None:
    path = tmp_path / "acme.yml"
    path.write_text(
        "name: acme\n"
        "links:\n"
        "  project_deal: {via: project_name, pattern: '\\[(006\\w{12,15})\\]'}\n"
        "  billed_time_invoice: {erp_field: otherrefnum}\n"
        "  consultant_entity: {via: project_customer}\n"
        "erp_fields: {transaction_deal: CUSTBODY_DEAL}\n"
        "vocabulary:\n"
        "  stages: {Closed Won: lost, Signed: won}\n",
        encoding="utf-8",
    )
    with patched_environ({"Q2C_TENANT_PROFILE": str(path)}):
        tenant = Settings.from_env().tenant
    dbt = tenant.dbt_vars()
    assert dbt["q2c_tenant"] == "acme"
    assert dbt["q2c_project_deal_link"] == "project_name"
    assert dbt["q2c_project_deal_group"] == 1
    assert dbt["q2c_invoice_number_field"] == "otherrefnum"
    assert dbt["q2c_consultant_entity"] == "project_customer"
    # a field id is case-insensitive in SuiteQL; the keys not given keep their defaults
    assert dbt["q2c_erp_fields"] == {
        "transaction_deal": "custbody_deal",
        "line_project": "custcol_psa_project_id",
        "customer_country": "custentity_billing_country",
    }
    stages = dict(dbt["q2c_stages"])
    assert stages["Signed"] == "won"
    assert stages["Closed Won"] == "lost"  # the firm's word wins over Salesforce's default
    assert stages["Negotiation/Review"] == "open"
