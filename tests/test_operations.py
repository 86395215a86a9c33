"""Schedules and sensors as the daemon would evaluate them, on the built warehouse."""

from __future__ import annotations

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from pipelines.definitions import defs
from pipelines.defs.sensors import closed_months, period_closed_sensor
from pipelines.lib.simulated import patched_environ
from pipelines.settings import Settings
from tests.support import BuiltWarehouse


def test_close_sensor_requests_the_newly_closed_month_once(built_warehouse: BuiltWarehouse) -> None:
    with patched_environ({"Q2C_DATA_DIR": str(built_warehouse.data_dir)}):
        months = closed_months(Settings.from_env())
        latest_closed = built_warehouse.firm(
            """select strftime(max(startdate), '%Y-%m') from ns_accountingperiod where closed"""
        )[0][0]
        assert months and months[-1] == latest_closed
        with DagsterInstance.ephemeral() as instance:
            first = period_closed_sensor(build_sensor_context(instance=instance))
            again = period_closed_sensor(
                build_sensor_context(instance=instance, cursor=latest_closed)
            )
    assert isinstance(first, RunRequest)
    assert first.partition_key == f"{latest_closed}-01"
    assert isinstance(again, SkipReason)


def test_schedules_and_sensors_run_by_default() -> None:
    for schedule in defs.schedules:
        assert schedule.default_status.value == "RUNNING", schedule.name
    assert {s.name for s in defs.sensors} == {"period_closed_sensor", "record_failed_runs"}
    assert defs.resolve_job_def("month_end_close").partitions_def is not None
