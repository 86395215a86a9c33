"""Schedules and sensors as the daemon would evaluate them, on the built warehouse."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    RunRequest,
    SkipReason,
    asset,
    build_schedule_context,
    build_sensor_context,
    define_asset_job,
)
from dagster._core.definitions.dependency import NodeHandle
from dagster._utils.schedules import cron_string_iterator

from pipelines.definitions import defs
from pipelines.defs.schedules import (
    CLOSE_BUSINESS_DAY_VAR,
    close_business_day,
    month_end_close_schedule,
    nth_business_day,
)
from pipelines.defs.sensors import closed_months, period_closed_sensor
from pipelines.lib.policies import (
    EXTRACT_RETRY,
    FINANCE_FRESHNESS,
    MONTH_END_REPORT_KEY,
    REFRESH_CRON,
    REPORT_FRESHNESS,
)
from pipelines.settings import PROJECT_ROOT, Settings, patched_environ
from tests.support import BuiltWarehouse


def test_close_sensor_requests_the_newly_closed_month_once(built_warehouse: BuiltWarehouse) -> None:
    from pipelines.defs.resources import RunSettings

    settings = Settings.resolve(data_dir=built_warehouse.data_dir)
    months = closed_months(settings)
    latest_closed = built_warehouse.firm(
        """select strftime(max(startdate), '%Y-%m') from ns_accountingperiod where closed"""
    )[0][0]
    assert months and months[-1] == latest_closed
    resources = {"settings": RunSettings.of(settings)}
    with DagsterInstance.ephemeral() as instance:
        first = period_closed_sensor(build_sensor_context(instance=instance, resources=resources))
        again = period_closed_sensor(
            build_sensor_context(instance=instance, cursor=latest_closed, resources=resources)
        )
    assert isinstance(first, RunRequest)
    assert first.partition_key == f"{latest_closed}-01"
    assert isinstance(again, SkipReason)


def test_schedules_and_sensors_run_by_default() -> None:
    for schedule in defs.schedules:
        assert schedule.default_status.value == "RUNNING", schedule.name
    assert {s.name for s in defs.sensors} == {
        "period_closed_sensor",
        "record_failed_runs",
        "recover_crashed_runs",
    }
    assert defs.resolve_job_def("month_end_close").partitions_def is not None


# The groups the UI shows, as finance-operations reads the pipeline: one per source system,
# then the layers from staging to the report and the analysts' copy.
BUSINESS_GROUPS = {
    "crm",
    "psa",
    "erp",
    "lookups",
    "staging",
    "intermediate",
    "canonical",
    "reconciliation",
    "gates",
    "reports",
    "publish",
}


def test_every_asset_has_a_description_an_owner_and_a_business_group() -> None:
    graph = defs.resolve_asset_graph()
    missing = []
    groups = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.add(node.group_name)
        if not (node.description or "").strip():
            missing.append(f"{key.to_user_string()}: no description")
        if not node.owners:
            missing.append(f"{key.to_user_string()}: no owner")
        if node.group_name not in BUSINESS_GROUPS:
            missing.append(f"{key.to_user_string()}: group {node.group_name!r}")
        if key.path[0] == "raw":
            assert node.group_name == key.path[1], key
    assert missing == []
    assert groups == BUSINESS_GROUPS


def test_every_check_says_what_it_checks_and_its_asset_has_an_owner() -> None:
    graph = defs.resolve_asset_graph()
    undescribed = [
        check.to_user_string()
        for check in graph.asset_check_keys
        if not (graph.get_check_spec(check).description or "").strip()
    ]
    assert undescribed == []
    assert all(graph.get(check.asset_key).owners for check in graph.asset_check_keys)
    # A generic dbt test reads as what it asserts, on which column.
    spec = graph.get_check_spec(
        AssetCheckKey(
            AssetKey(["reconciliation", "unbilled_approved_time"]),
            "not_null_unbilled_approved_time_source_record_id",
        )
    )
    assert "`source_record_id` is never null" in spec.description


def test_finance_marts_carry_freshness_expectations() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        policy = node.freshness_policy
        if node.group_name in ("reconciliation", "publish"):
            assert policy == FINANCE_FRESHNESS, key
        elif key == MONTH_END_REPORT_KEY:
            assert policy == REPORT_FRESHNESS, key
        else:  # the report's views (group reports) are rebuilt with everything else
            assert policy is None, key
    # Each scheduled refresh (a day of ticks) is expected to land within the hour after it
    # starts: every deadline is one hour after a refresh tick, and no tick is left without one.
    refresh = next(s for s in defs.schedules if s.name == "refresh_warehouse_every_4_hours")
    assert refresh.cron_schedule == REFRESH_CRON
    start = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    ticks = itertools.islice(cron_string_iterator(start, REFRESH_CRON, "UTC"), 10)
    deadlines = itertools.islice(
        cron_string_iterator(start, FINANCE_FRESHNESS.deadline_cron, "UTC"), 10
    )
    assert [t + timedelta(hours=1) for t in ticks] == list(deadlines)


def test_no_step_has_a_retry_policy_extract_steps_ask_for_their_own() -> None:
    """dbt and the checks fail the same way twice; an extract step asks Dagster to run it again
    (RetryRequested) only for a transient failure (tests/test_extraction.py)."""
    job = defs.resolve_job_def("refresh_warehouse")
    for node in job.nodes:
        assert job.get_retry_policy_for_handle(NodeHandle(node.name, None)) is None, node.name
    assert {n.name for n in job.nodes} >= {"extract_crm", "extract_psa", "extract_erp"}
    waits = [EXTRACT_RETRY.wait(n) for n in range(EXTRACT_RETRY.max_retries)]
    assert EXTRACT_RETRY.max_retries == 3
    for n, wait in enumerate(waits):  # about 30, 60 and 120 s, with jitter
        assert 0.75 * 30 * 2**n <= wait <= 1.25 * 30 * 2**n


def _close_tick(day: date, as_of: str = "") -> RunRequest | SkipReason:
    from pipelines.defs.resources import RunSettings

    settings = RunSettings(data_dir="/srv/q2c", as_of=as_of)
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(day.year, day.month, day.day, 7, tzinfo=UTC),
            resources={"settings": settings},
        )
        return month_end_close_schedule(context)


def test_a_scheduled_close_judges_on_its_tick_unless_the_settings_pin_a_date() -> None:
    request = _close_tick(date(2026, 12, 9))
    config = request.run_config["resources"]["settings"]["config"]
    assert config["as_of"] == "2026-12-09" and config["data_dir"] == "/srv/q2c"
    pinned = _close_tick(date(2026, 12, 9), as_of="2026-11-25")
    assert pinned.run_config["resources"]["settings"]["config"]["as_of"] == "2026-11-25"


def test_month_end_close_runs_on_business_day_n_for_the_month_before() -> None:
    # December 2026 starts on a Tuesday: business day 7 is Wednesday the 9th.
    assert nth_business_day(2026, 12, 7) == date(2026, 12, 9)
    request = _close_tick(date(2026, 12, 9))
    assert isinstance(request, RunRequest) and request.partition_key == "2026-11-01"
    assert isinstance(_close_tick(date(2026, 12, 8)), SkipReason)
    # Configurable: business day 3 is Thursday the 3rd; the 9th is then no close day.
    with patched_environ({CLOSE_BUSINESS_DAY_VAR: "3"}):
        request = _close_tick(date(2026, 12, 3))
        assert isinstance(request, RunRequest) and request.partition_key == "2026-11-01"
        assert isinstance(_close_tick(date(2026, 12, 9)), SkipReason)
    # January 2027 starts on a Friday: business day 1 is the 1st, business day 2 the 4th.
    assert nth_business_day(2027, 1, 2) == date(2027, 1, 4)


def test_a_wrong_close_business_day_is_a_one_line_error() -> None:
    for wrong in ("0", "11", "ninth", "-2"):
        with (
            patched_environ({CLOSE_BUSINESS_DAY_VAR: wrong}),
            pytest.raises(ValueError, match=f"{CLOSE_BUSINESS_DAY_VAR}=.* from 1 to 10"),
        ):
            close_business_day()


def test_the_instance_queues_runs_one_at_a_time_and_retries_only_crashed_runs(
    tmp_path: Path,
) -> None:
    """The real dagster.yaml, loaded by Dagster: storage where Q2C_DAGSTER_DIR says."""
    from dagster._core.run_coordinator import QueuedRunCoordinator

    with (
        patched_environ({"Q2C_DAGSTER_DIR": str(tmp_path / "dagster")}),
        DagsterInstance.from_config(str(PROJECT_ROOT)) as instance,
    ):
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config()
        assert queue.run_queue_config.max_concurrent_runs == 1
        assert queue.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.telemetry_enabled is False
        assert instance.root_directory == str(tmp_path / "dagster")
        # the steps' stdout and stderr too, not $DAGSTER_HOME/storage (the project root)
        log = instance.compute_log_manager.get_captured_local_path(["run", "step"], "out")
        assert Path(log).is_relative_to(tmp_path / "dagster")
    assert (tmp_path / "dagster" / "history").is_dir()


def test_terminal_progress_is_a_line_per_step_and_per_check_that_did_not_pass(capsys) -> None:
    """`q2c run` and `make demo` print through this logger: 450 passing checks must not bury
    the one that failed."""
    from pipelines.lib.progress import progress_logger

    names = ("balanced", "dated", "signed", "rounded")
    checks = [AssetCheckSpec(name, asset="ledger") for name in names]

    @asset(check_specs=checks)
    def ledger() -> MaterializeResult:
        return MaterializeResult(
            check_results=[
                AssetCheckResult(check_name="balanced", passed=True),
                AssetCheckResult(check_name="dated", passed=True),
                AssetCheckResult(check_name="signed", passed=False),
                # as dagster-dbt reports a failed warning test
                AssetCheckResult(
                    check_name="rounded",
                    passed=False,
                    severity=AssetCheckSeverity.WARN,
                    metadata={"dagster_dbt/failed_row_count": 3},
                ),
            ]
        )

    job = Definitions(assets=[ledger], jobs=[define_asset_job("j")]).resolve_job_def("j")
    job = job.with_logger_defs({"progress": progress_logger})
    job.execute_in_process(run_config={"loggers": {"progress": {}}})

    lines = [line.split("] ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert lines == [
        "ledger started",
        "ledger:signed did not pass (error)",
        "ledger:rounded did not pass (warning, 3 rows)",
        "ledger done (2 checks passed)",
    ]
