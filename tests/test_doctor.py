"""``q2c doctor`` against the simulated vendors: one line per resource and per link, the run's
own one-line reasons for a wrong setting, and nothing written to the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.settings import patched_environ
from tests.support import BuiltWarehouse


def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["doctor"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.strip().splitlines()[-1]


def _files(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*.duckdb")}


def test_a_healthy_configuration_reads_one_page_of_everything_and_writes_nothing(
    built_warehouse: BuiltWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(built_warehouse.data_dir)
    code, lines, _ = _doctor(capsys)
    assert code == 0, lines
    assert _files(built_warehouse.data_dir) == before
    resources = [line for line in lines if line.split()[1] != "link"]
    # every resource of the three sources, each read for its first page
    assert len(resources) == 4 + 8 + 11
    assert all(line.startswith("ok   ") for line in lines)
    assert "ok   erp transaction: " in "\n".join(lines)
    links = {line.split()[2].rstrip(":"): line for line in lines if line.split()[1] == "link"}
    assert set(links) == {
        "project_deal",
        "invoice_line_project",
        "billed_time_invoice",
        "erp_customer_crm_account",
        "consultant_entity",
    }
    # the figures are the build's: the billable projects the simulator linked to a deal
    linked, population = built_warehouse.query(
        """select count(deal_opportunity_id), count(*) from canonical.projects
           where is_billable"""
    )[0]
    assert f"{linked} of {population} (" in links["project_deal"]


def test_wrong_settings_are_one_line_each_naming_what_to_change(
    built_warehouse: BuiltWarehouse, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text(
        "name: acme\nerp_fields: {customer_country: custentity_country_code}\n", encoding="utf-8"
    )
    broken = {
        "SOURCES__CRM__ACCESS_TOKEN": "not-the-token",
        "SOURCES__PSA__ACCESS_TOKEN": "",
        "Q2C_TENANT_PROFILE": str(profile),
    }
    with patched_environ(broken):
        code, lines, last = _doctor(capsys)
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert last == f"q2c doctor: {len(failed)} findings to fix (the lines marked FAIL)"
    # a wrong token or a missing one: one line for the source, not one per resource
    crm = [line for line in failed if line.startswith("FAIL crm")]
    assert len(crm) == 1 and "HTTP 401" in crm[0]
    assert crm[0].endswith("(check SOURCES__CRM__ACCESS_TOKEN)")
    assert [line for line in failed if line.startswith("FAIL psa")] == [
        "FAIL psa clients: SOURCES__PSA__ACCESS_TOKEN is not set"
    ]
    # a custom field the account lacks: the one query that names it, with NetSuite's words
    (erp,) = [line for line in failed if line.startswith("FAIL erp")]
    assert erp.startswith("FAIL erp customer: NetSuite answered HTTP 400")
    assert "custentity_country_code" in erp
    assert erp.endswith("(check the fields of customer in the tenant profile, Q2C_TENANT_PROFILE)")
    assert "not-the-token" not in "\n".join(lines)
    # the other ERP queries, built from the same profile, still read
    assert sum(line.startswith("ok   erp ") for line in lines) == 10
