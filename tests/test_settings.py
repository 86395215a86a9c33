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
