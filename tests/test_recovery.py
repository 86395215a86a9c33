"""A crash never blocks the next run; a stop signal stops the run.

`q2c run` as an operator runs it (a process of its own, the project's dagster.yaml, the
instance under the data folder), against the simulator served from this process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from pipelines.cli import STOP_GRACE_SECONDS
from pipelines.settings import PROJECT_ROOT, patched_environ
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.support import BuiltWarehouse

RUN_SECONDS = 300


@pytest.fixture(scope="module")
def operator_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a `q2c run` against a served firm, with its own data folder."""
    root = tmp_path_factory.mktemp("q2c-recovery")
    params = FirmParams(seed=13, scale="small", as_of=AS_OF, problem_rate=0.03)
    with simulated_sources(root / "firm.duckdb", params) as sim:
        yield {
            **os.environ,
            **sim.env,
            "Q2C_DATA_DIR": str(root / "data"),
            "Q2C_DAGSTER_DIR": str(root / "data" / "dagster"),
            "DAGSTER_HOME": str(PROJECT_ROOT),
        }


class Run:
    """`q2c run` in the background, its terminal lines collected."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "q2c"), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(log, "w"),  # noqa: SIM115 (closed with the process)
        )

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, line: str, seconds: float = RUN_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while line not in self.text():
            if self.process.poll() is not None:
                pytest.fail(f"q2c run ended before {line!r}:\n{self.text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {line!r} within {seconds} s:\n{self.text()}")
            time.sleep(0.1)

    def finish(self, seconds: float = RUN_SECONDS) -> int:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"q2c run did not finish within {seconds} s:\n{self.text()}")


def runs(env: dict[str, str]) -> list[tuple[str, DagsterRunStatus]]:
    with (
        patched_environ({k: env[k] for k in ("Q2C_DAGSTER_DIR", "DAGSTER_HOME")}),
        DagsterInstance.get() as instance,
    ):
        return [(r.dagster_run.run_id, r.dagster_run.status) for r in instance.get_run_records()]


def claimed_warehouse_slots(env: dict[str, str]) -> list[object]:
    with (
        patched_environ({k: env[k] for k in ("Q2C_DAGSTER_DIR", "DAGSTER_HOME")}),
        DagsterInstance.get() as instance,
    ):
        return instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots


def dbt_processes(env: dict[str, str]) -> list[psutil.Process]:
    """dbt processes building this data folder's warehouse (run_dbt pins it in their env)."""
    warehouse = str(Path(env["Q2C_DATA_DIR"]) / "warehouse.duckdb")
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "bin/dbt" in " ".join(process.info["cmdline"] or []) and (
                process.environ().get("Q2C_WAREHOUSE_PATH") == warehouse
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_after_a_kill_the_next_run_recovers_the_dead_one_and_completes(
    operator_env: dict[str, str], tmp_path: Path
) -> None:
    killed = Run(operator_env, tmp_path / "killed.log")
    killed.wait_for("extract_psa started")
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait()
    ((dead_id, status),) = runs(operator_env)
    assert status == DagsterRunStatus.STARTED  # what kill -9 leaves: no one could say otherwise

    started = time.monotonic()
    after = Run(operator_env, tmp_path / "after.log")
    assert after.finish() == 0, after.text()
    assert f"recovered run {dead_id[:8]} (refresh_warehouse)" in after.text()
    statuses = dict(runs(operator_env))
    assert statuses[dead_id] == DagsterRunStatus.FAILURE
    assert sorted(s.value for s in statuses.values()) == ["FAILURE", "SUCCESS"]
    assert claimed_warehouse_slots(operator_env) == []
    assert time.monotonic() - started < RUN_SECONDS


def test_under_the_daemon_the_sensor_recovers_a_run_whose_process_died(
    operator_env: dict[str, str], tmp_path: Path
) -> None:
    """What `make ui` relies on: the daemon evaluates this sensor every minute."""
    from dagster import build_sensor_context

    from pipelines.defs.sensors import recover_crashed_runs
    from pipelines.lib.runs import process_alive

    killed = Run(operator_env, tmp_path / "killed.log")
    killed.wait_for("extract_crm started")
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait()
    (dead_id, status), *_ = runs(operator_env)
    assert status == DagsterRunStatus.STARTED
    with (
        patched_environ({k: operator_env[k] for k in ("Q2C_DAGSTER_DIR", "DAGSTER_HOME")}),
        DagsterInstance.get() as instance,
    ):
        # the run's own process follows its parent within a second
        tags = instance.get_run_by_id(dead_id).tags
        deadline = time.monotonic() + 10
        while process_alive(tags) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process_alive(tags) is False
        first = recover_crashed_runs(build_sensor_context(instance=instance))
        again = recover_crashed_runs(build_sensor_context(instance=instance))
    assert "recovered 1 runs" in first.skip_message
    assert "no run lost its process" in again.skip_message
    assert dict(runs(operator_env))[dead_id] == DagsterRunStatus.FAILURE
    assert claimed_warehouse_slots(operator_env) == []


def test_a_stop_signal_cancels_the_run_and_a_waiting_run_stops_at_once(
    operator_env: dict[str, str], tmp_path: Path
) -> None:
    first = Run(operator_env, tmp_path / "first.log")
    first.wait_for("extract_crm started")
    # A second run waits for the first, and says so; SIGTERM (systemd, `timeout`) stops it.
    second = Run(operator_env, tmp_path / "second.log")
    second.wait_for("waiting for run")
    second.process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    assert second.finish(30) == 128 + signal.SIGTERM
    assert time.monotonic() - stopped < 10
    assert "stopped by SIGTERM: before its run started" in second.text()

    # The first, stopped in the middle of its dbt build: canceled, its slot and dbt gone.
    first.wait_for("warehouse_models started")
    deadline = time.monotonic() + 30
    while not dbt_processes(operator_env) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dbt_processes(operator_env)
    first.process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    assert first.finish(30) == 128 + signal.SIGTERM
    # the step's grace, then its process group killed (the parent's own start-up on top)
    assert time.monotonic() - stopped < STOP_GRACE_SECONDS + 10
    assert "stopped by SIGTERM: the run was canceled" in first.text()
    (latest_id, latest), *_ = runs(operator_env)
    assert latest == DagsterRunStatus.CANCELED
    assert claimed_warehouse_slots(operator_env) == []
    assert dbt_processes(operator_env) == []


def test_only_temporary_files_of_dead_processes_are_stale(tmp_path: Path) -> None:
    from pipelines.lib.runs import stale_files

    dead = max(psutil.pids()) + 100_000  # above any pid handed out since the machine started
    names = [
        f".analytics.duckdb.{dead}.tmp",
        f".analytics.duckdb.{dead}.tmp.wal",
        f".month_end_2026-10.html.{dead}.tmp",
        f".analytics.duckdb.{os.getpid()}.tmp",  # a live process's: being written now
        "analytics.duckdb",
        f"notes.{dead}.tmp",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    assert [p.name for p in stale_files([tmp_path, tmp_path / "missing"])] == sorted(names[:3])


def test_a_failing_dbt_step_ends_its_dbt_build(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    """What the dbt step does when it fails while dbt is building (dagster-dbt itself only
    forwards an interrupt): dbt is stopped, so nothing goes on writing the warehouse behind the
    failed run or holds its lock."""
    import shutil

    import duckdb

    from pipelines.defs.resources import dbt_resource
    from pipelines.defs.transform.dbt import run_dbt, stop_dbt
    from pipelines.settings import Settings

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.warehouse, warehouse)
    settings = Settings.resolve(data_dir=tmp_path, warehouse_path=warehouse, as_of=AS_OF)
    invocation = run_dbt(
        dbt_resource(), settings, ["build", "--exclude-resource-type", "unit_test"]
    )
    deadline = time.monotonic() + 60
    while invocation.process.poll() is None and time.monotonic() < deadline:
        try:  # wait until dbt holds the warehouse
            duckdb.connect(str(warehouse), read_only=True).close()
        except duckdb.IOException:
            break
        time.sleep(0.2)
    assert invocation.process.poll() is None, "dbt ended before it could be stopped"
    stop_dbt(invocation)
    assert invocation.process.poll() is not None
    duckdb.connect(str(warehouse)).close()  # the lock is free
