"""Expectation suites as asset checks: they fail on planted problems with the right counts,
and every one passes on a clean firm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.defs.quality.checks import CHECKPOINTS
from pipelines.lib.simulated import patched_environ, simulated_sources
from simulator.firm import FirmParams
from tests.conftest import AS_OF
from tests.support import BuiltWarehouse, run_refresh_job


def gx_evaluations(result) -> dict:
    return {
        e.check_name.removeprefix("gx_"): e
        for e in result.get_asset_check_evaluations()
        if e.check_name.startswith("gx_")
    }


def test_every_suite_ran_as_a_check(built_warehouse: BuiltWarehouse) -> None:
    assert set(gx_evaluations(built_warehouse.result)) == set(CHECKPOINTS)


def test_gates_fail_with_the_planted_counts(built_warehouse: BuiltWarehouse) -> None:
    checks = gx_evaluations(built_warehouse.result)
    planted = dict(
        built_warehouse.firm(
            """select exception_type, count(*) from sim_ground_truth
               where resolved_at is null group by 1"""
        )
    )
    unbilled = checks["unbilled_approved_time"]
    assert not unbilled.passed
    assert unbilled.metadata["offending_rows"].value == planted["unbilled_approved_time"]
    taxes = checks["missing_tax_codes"]
    assert not taxes.passed
    observed = taxes.metadata["failed_expectations"].value
    assert observed["Invoice lines without a tax code"] == str(planted["missing_tax_code"])
    sample = taxes.metadata["sample_source_record_ids"].value
    assert 0 < len(sample) <= 20


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    data_dir: Path = tmp_path_factory.mktemp("clean")
    params = FirmParams(seed=5, scale="small", as_of=AS_OF, problem_rate=0.0)
    firm = data_dir / "simulator" / "firm.duckdb"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm, params):
        yield run_refresh_job()


def test_a_clean_firm_passes_every_suite(clean_build) -> None:
    assert clean_build.success
    checks = gx_evaluations(clean_build)
    assert set(checks) == set(CHECKPOINTS)
    failing = {
        name: e.metadata.get("failed_expectations") for name, e in checks.items() if not e.passed
    }
    assert failing == {}
