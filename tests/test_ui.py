"""The Dagster UI as finance operations runs it: the real webserver and daemon (`dagster dev`,
the command `q2c ui` runs), the project's dagster.yaml, a small simulated firm behind them,
and headless Chromium clicking.

One scenario, because every run costs a process start and a dbt build on two cores:

- the refresh job is launched from the UI (Materialize all on its asset graph) and, at the
  same moment, a second refresh through the webserver's GraphQL; the run queue serializes
  them and both succeed;
- and a backfill of three closed months (three close runs) joins the queue behind them;
- meanwhile an analyst's process reads ``analytics.duckdb`` over and over: never a lock
  error, and every read is exactly one published build (the firm moves a day between the
  two builds, so the two differ);
- a gate that fails on the planted problems is executed from its asset's Checks tab;
- the schedules and sensors are listed and running.

Screenshots go to the test's tmp dir and to ``data/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines.cli import dagster_dev_command
from pipelines.settings import PROJECT_ROOT, patched_environ
from simulator.firm import FirmParams, advance
from simulator.harness import SimulatedSources, simulated_sources
from tests.conftest import AS_OF

STARTUP_SECONDS = 300
RUN_SECONDS = 600
REPOSITORY = {"repositoryLocationName": "q2c", "repositoryName": "__repository__"}
SCREENSHOTS = PROJECT_ROOT / "data" / "screenshots"
AUTOMATION_TAGS = {"dagster/schedule_name", "dagster/sensor_name", "dagster/backfill"}
BACKFILL_MONTHS = ["2026-08-01", "2026-09-01", "2026-10-01"]

# An analyst's process: opens the published copy read-only again and again and records what
# each read saw (rows per table), until told to stop.
READER = """
import json, os, sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
reads, waits, errors, seen = 0, 0, [], {}
deadline = time.monotonic() + 2400
while not os.path.exists(stop) and time.monotonic() < deadline:
    if not os.path.exists(path):
        waits += 1
        time.sleep(0.2)
        continue
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() order by 1, 2"
            ).fetchall()
            rows = {
                f"{s}.{t}": con.execute(f'select count(*) from {s}."{t}"').fetchone()[0]
                for s, t in tables
            }
        finally:
            con.close()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        continue
    reads += 1
    key = json.dumps(rows, sort_keys=True)
    seen[key] = seen.get(key, 0) + 1
    time.sleep(0.1)
print(json.dumps({"reads": reads, "waits": waits, "errors": errors[:3], "seen": seen}))
"""


@dataclass
class DagsterUI:
    url: str
    data_dir: Path
    sim: SimulatedSources
    log: Path
    screenshots: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=180
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self) -> list[dict[str, Any]]:
        data = self.graphql(
            "{ runsOrError { ... on Runs { results { runId jobName status creationTime "
            "startTime endTime tags { key value } } } } }"
        )
        return data["runsOrError"]["results"]

    def run(self, run_id: str) -> dict[str, Any]:
        return next(r for r in self.runs() if r["runId"] == run_id)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def wait_for(self, what: str, seconds: float, predicate: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(2)
        pytest.fail(
            f"timed out after {seconds:.0f} s waiting for {what}; dagster log:\n{self.log_tail()}"
        )

    def screenshot(self, page: Any, name: str) -> Path:
        path = self.screenshots / name
        page.screenshot(path=str(path), full_page=False)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)
        return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(process: subprocess.Popen) -> None:
    """dagster dev stops its webserver, daemon and code server on SIGTERM; what lingers is
    killed with the whole process group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[DagsterUI]:
    """`dagster dev` on a free loopback port, with a fresh instance, data folder and firm."""
    root = tmp_path_factory.mktemp("q2c-ui")
    data_dir = root / "data"
    params = FirmParams(seed=7, scale="small", as_of=AS_OF, problem_rate=0.03)
    storage = {"Q2C_DATA_DIR": str(data_dir), "Q2C_DAGSTER_DIR": str(data_dir / "dagster")}
    with (
        patched_environ(storage),
        simulated_sources(data_dir / "simulator" / "firm.duckdb", params) as sim,
    ):
        port = free_port()
        log = root / "dagster.log"
        env = {**os.environ, "DAGSTER_HOME": str(PROJECT_ROOT)}
        with open(log, "w") as out:
            process = subprocess.Popen(
                dagster_dev_command(port),
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (root / "screenshots").mkdir()
        ui = DagsterUI(f"http://127.0.0.1:{port}", data_dir, sim, log, root / "screenshots")
        try:

            def loaded() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"dagster dev exited with {process.returncode}:\n{ui.log_tail()}")
                try:
                    data = ui.graphql(
                        "{ workspaceOrError { ... on Workspace { locationEntries { name "
                        "loadStatus locationOrLoadError { __typename ... on PythonError "
                        "{ message } } } } } }"
                    )
                except requests.ConnectionError:
                    return False
                entries = data["workspaceOrError"]["locationEntries"]
                location = entries[0]["locationOrLoadError"] if entries else None
                if location and location["__typename"] == "PythonError":
                    pytest.fail(f"the code location failed to load: {location['message']}")
                return bool(location) and location["__typename"] == "RepositoryLocation"

            ui.wait_for("the q2c code location to load in the webserver", STARTUP_SECONDS, loaded)
            yield ui
        finally:
            stop_process_group(process)


def skip_welcome(page: Any) -> None:
    """Dagster greets a new browser with a newsletter dialog; skip it if it shows."""
    skip = page.get_by_role("button", name="Skip")
    with contextlib.suppress(PlaywrightTimeout):  # no dialog this time
        skip.wait_for(timeout=5000)
        skip.click()


def step_done(ui: DagsterUI, run_id: str, prefix: str) -> bool:
    steps = [s for key, s in step_statuses(ui, run_id).items() if key.startswith(prefix)]
    return len(steps) == 3 and all(s == "SUCCESS" for s in steps)


def step_statuses(ui: DagsterUI, run_id: str) -> dict[str, str]:
    data = ui.graphql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { stepStats { stepKey status } } } }",
        {"id": run_id},
    )
    return {s["stepKey"]: s["status"] for s in data["runOrError"]["stepStats"]}


def tag(run: dict[str, Any], key: str) -> str | None:
    return next((t["value"] for t in run["tags"] if t["key"] == key), None)


def backfill_runs(ui: DagsterUI, backfill_id: str) -> list[dict[str, Any]]:
    return [r for r in ui.runs() if tag(r, "dagster/backfill") == backfill_id]


def published_builds(ui: DagsterUI) -> dict[str, dict[str, int]]:
    """run id -> rows per table, as each run's publish step reported them."""
    data = ui.graphql(
        """{ assetOrError(assetKey: {path: ["analytics", "published"]}) { ... on Asset {
             assetMaterializations(limit: 10) { runId metadataEntries { label
               ... on JsonMetadataEntry { jsonString } } } } } }"""
    )
    builds = {}
    for event in data["assetOrError"]["assetMaterializations"]:
        rows = next(e for e in event["metadataEntries"] if e["label"] == "rows")
        builds[event["runId"]] = json.loads(rows["jsonString"])
    return builds


def test_operations_run_the_warehouse_from_the_ui(dagster_ui: DagsterUI, browser: Any) -> None:
    ui = dagster_ui
    analytics = ui.data_dir / "analytics.duckdb"
    stop = ui.data_dir / "reader.stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(analytics), str(stop)], stdout=subprocess.PIPE, text=True
    )
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        # The refresh job's asset graph, and Materialize all on it.
        page.goto(f"{ui.url}/locations/q2c/jobs/refresh_warehouse", timeout=60_000)
        skip_welcome(page)
        materialize = page.get_by_role("button", name="Materialize all")
        materialize.wait_for(timeout=60_000)
        # The graph is laid out in the browser: on a busy machine that takes a while.
        try:
            page.get_by_text("crm", exact=True).first.wait_for(state="attached", timeout=180_000)
        except PlaywrightTimeout:
            shot = ui.screenshot(page, "refresh_warehouse_graph_not_drawn.png")
            pytest.fail(f"the refresh job's asset graph was not drawn in 3 minutes: see {shot}")
        graph = ui.screenshot(page, "refresh_warehouse_graph.png")
        # A schedule tick may launch a refresh while the test runs: the run from the UI is
        # the new one that no schedule or sensor launched.
        before = {r["runId"] for r in ui.runs()}
        materialize.click()
        first = ui.wait_for(
            "the run launched from the UI",
            120,
            lambda: next(
                (
                    r
                    for r in ui.runs()
                    if r["runId"] not in before
                    and r["jobName"] == "refresh_warehouse"
                    and not any(t["key"] in AUTOMATION_TAGS for t in r["tags"])
                ),
                None,
            ),
        )
        # A second refresh requested at once, as a schedule tick or a colleague would.
        launched = ui.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } }
                 ... on PythonError { message } } }""",
            {"params": {"selector": {**REPOSITORY, "jobName": "refresh_warehouse"}}},
        )["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        second_id = launched["run"]["runId"]
        # And a backfill of three closed months, as finance asks for after a late correction:
        # three close runs in the same queue, while the analyst goes on reading.
        backfill = ui.graphql(
            """mutation($params: LaunchBackfillParams!) {
                 launchPartitionBackfill(backfillParams: $params) {
                   __typename ... on LaunchBackfillSuccess { backfillId }
                   ... on PythonError { message } } }""",
            {
                "params": {
                    "selector": {
                        "partitionSetName": "month_end_close_partition_set",
                        "repositorySelector": REPOSITORY,
                    },
                    "partitionNames": BACKFILL_MONTHS,
                }
            },
        )["launchPartitionBackfill"]
        assert backfill["__typename"] == "LaunchBackfillSuccess", backfill

        # Once the first run has extracted, the firm lives a day on: the second build differs.
        ui.wait_for(
            "the first run's extract steps",
            RUN_SECONDS,
            lambda: step_done(ui, first["runId"], "extract_"),
        )
        assert ui.run(second_id)["status"] in ("QUEUED", "NOT_STARTED", "STARTING"), ui.run(
            second_id
        )
        advance(ui.sim.firm, days=1)

        finished = ("SUCCESS", "FAILURE", "CANCELED")
        ui.wait_for(
            "both refresh runs to finish",
            2 * RUN_SECONDS,
            lambda: all(ui.run(i)["status"] in finished for i in (first["runId"], second_id)),
        )
        closes = ui.wait_for(
            "the backfill's three close runs to finish",
            3 * RUN_SECONDS,
            lambda: (
                (found := backfill_runs(ui, backfill["backfillId"]))
                and len(found) == len(BACKFILL_MONTHS)
                and all(r["status"] in finished for r in found)
                and found
            ),
        )
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)

    a, b = ui.run(first["runId"]), ui.run(second_id)
    assert a["status"] == "SUCCESS" and b["status"] == "SUCCESS", (a, b, ui.log_tail())
    # Serialized by Dagster's run queue: the second was requested while the first ran, and
    # started only after it ended; no two runs of the instance ever overlapped.
    assert b["creationTime"] < a["endTime"] <= b["startTime"] < b["endTime"], (a, b)
    windows = sorted(
        (r["startTime"], r["endTime"] or time.time()) for r in ui.runs() if r["startTime"]
    )
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(windows)), windows

    # Each month of the backfill ran its close in turn, after the refreshes. The firm's planted
    # problems fail the blocking gates, so each close withholds its report: that is the one
    # way a close run may fail here (no lock error, nothing else).
    assert sorted(tag(r, "dagster/partition") for r in closes) == BACKFILL_MONTHS
    assert all(r["startTime"] >= b["endTime"] for r in closes), (b, closes)
    for close in closes:
        steps = step_statuses(ui, close["runId"])
        failed = sorted(key for key, status in steps.items() if status == "FAILURE")
        assert all("gx_" in key for key in failed), (close["runId"], failed, ui.log_tail())
        report = next((s for key, s in steps.items() if "month_end_report" in key), None)
        # withheld: the report step never starts; otherwise it writes the month's report
        assert report == (None if failed else "SUCCESS"), steps

    # The analyst was never locked out and every read was one whole published build.
    seen = json.loads(out)
    builds = published_builds(ui)
    assert {a["runId"], b["runId"]} <= set(builds)
    old, new = builds[a["runId"]], builds[b["runId"]]
    assert old != new, "the two builds are the same: a mixed read could not be told apart"
    assert seen["errors"] == []
    snapshots = {key: json.loads(key) for key in seen["seen"]}
    whole = list(builds.values())
    assert all(rows in whole for rows in snapshots.values()), [
        {
            t: (n, old.get(t), new.get(t))
            for t, n in rows.items()
            if n not in (old.get(t), new.get(t))
        }
        for rows in snapshots.values()
        if rows not in whole
    ]
    assert len(snapshots) >= 2 and seen["reads"] > 20, (len(snapshots), seen["reads"])

    # A gate that fails on the planted problems, executed from its asset's Checks tab.
    page.goto(
        f"{ui.url}/assets/reconciliation/unbilled_approved_time?view=checks"
        "&checkDetail=gx_unbilled_approved_time",
        timeout=60_000,
    )
    skip_welcome(page)
    execute = page.locator('button:has-text("Execute"):not(:has-text("all"))').first
    execute.wait_for(timeout=60_000)
    earlier = {r["runId"] for r in ui.runs()}
    execute.click()

    def evaluated() -> dict[str, Any] | None:
        latest = ui.graphql(
            """{ assetCheckExecutions(assetKey: {path: ["reconciliation", "unbilled_approved_time"]},
                 checkName: "gx_unbilled_approved_time", limit: 1) { status runId
                 evaluation { success } } }"""
        )["assetCheckExecutions"]
        if latest and latest[0]["runId"] not in earlier and latest[0]["status"] != "IN_PROGRESS":
            return latest[0]
        return None

    execution = ui.wait_for("the check run launched from the UI", RUN_SECONDS, evaluated)
    assert execution["status"] == "FAILED" and execution["evaluation"]["success"] is False
    page.reload()
    page.get_by_text("Failed", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("offending_rows").first.wait_for(timeout=60_000)
    check = ui.screenshot(page, "failing_check_unbilled_approved_time.png")
    page.close()
    assert graph.stat().st_size > 10_000 and check.stat().st_size > 10_000


def test_schedules_and_sensors_are_listed_and_running(dagster_ui: DagsterUI, browser: Any) -> None:
    ui = dagster_ui
    data = ui.graphql(
        """query($repo: RepositorySelector!) {
             schedulesOrError(repositorySelector: $repo) { ... on Schedules {
               results { name scheduleState { status } } } }
             sensorsOrError(repositorySelector: $repo) { ... on Sensors {
               results { name sensorState { status } } } } }""",
        {"repo": REPOSITORY},
    )
    states = {
        s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]
    } | {s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]}
    assert states == {
        "refresh_warehouse_every_4_hours": "RUNNING",
        "month_end_close_schedule": "RUNNING",
        "period_closed_sensor": "RUNNING",
        "record_failed_runs": "RUNNING",
        "recover_crashed_runs": "RUNNING",
    }
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{ui.url}/automation", timeout=60_000)
    skip_welcome(page)
    for name in states:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    ui.screenshot(page, "automation.png")
    page.close()
