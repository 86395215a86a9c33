"""The process that executes one q2c run, started and watched by ``q2c run`` (``cli.py``).

    python -m pipelines.run_worker '<request as JSON>'

The request names the run id, the period (for the month-end close), the run's settings and a
file for the outcome. Before the run starts, runs whose process is gone are marked failed and
their pool slots released, stale temporary files of killed runs removed, and a run still
alive on this instance is waited for (one line says which), so two runs never write the
warehouse at once and a crash never blocks the next run.

The run is in a process of its own so that ``q2c run`` can stop it cleanly: on SIGTERM or
Ctrl-C it marks the run canceling and interrupts this process, which ends the step it is in
and marks the run canceled (even while the run waits for a pool slot, which Dagster's own
interrupt handling does not end). This process and its children die with their parent, so
that a ``kill -9`` of ``q2c run`` leaves no run behind writing the warehouse.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from pipelines.lib.extract import redact
from pipelines.settings import Settings

WAIT_REPORT_SECONDS = 60
MAX_RETRIES_TAG = "dagster/max_retries"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def die_with_parent(parent_pid: int) -> None:
    """Kill this process and its children (dbt) as soon as the parent is gone.

    This process leads its own process group (``q2c run`` starts it in a session of its own),
    so the whole group goes, dbt included: a ``kill -9`` of ``q2c run`` leaves nothing behind
    writing the warehouse, and the next run recovers the run it left ``STARTED``.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="q2c-parent-watch", daemon=True).start()


def prepare(instance: Any, settings: Settings, run_id: str) -> None:
    """Recover what killed runs left, then wait for a live run of this instance to finish."""
    from pipelines.lib.runs import live_runs, recover_dead_runs, stale_files

    for run in recover_dead_runs(instance, excluding=[run_id]):
        _say(
            f"  recovered run {run.run_id[:8]} ({run.job_name}): its process (pid {run.pid}) "
            "was gone; marked failed, its warehouse slot released"
        )
    folders = {settings.analytics_path.parent, settings.reports_dir, settings.warehouse_path.parent}
    removed = stale_files(folders)
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        _say(f"  removed {len(removed)} temporary files of killed runs: {removed[0].name}, ...")
    waited_since, reported = time.monotonic(), 0.0
    while running := live_runs(instance, excluding=[run_id]):
        if time.monotonic() - reported >= WAIT_REPORT_SECONDS or not reported:
            other = running[0]
            _say(
                f"  waiting for run {other.run_id[:8]} ({other.job_name}) to finish: it is "
                f"writing the warehouse ({time.monotonic() - waited_since:.0f} s so far; "
                "Ctrl-C stops waiting)"
            )
            reported = time.monotonic()
        time.sleep(2)


def execute(request: dict[str, Any]) -> dict[str, Any]:
    """Run the refresh (or, with a period, the month-end close) as ``request`` says; the
    outcome: success, gates_failed, or failed with the one line that says why."""
    from dagster import DagsterInstance

    from pipelines.cli import failure_line, run_config
    from pipelines.definitions import defs
    from pipelines.defs.quality.checks import failed_on_a_gate
    from pipelines.lib.progress import progress_logger

    settings = Settings.resolve(**request["settings"])
    period, run_id = request.get("period"), request["run_id"]
    job = defs.resolve_job_def("month_end_close" if period else "refresh_warehouse")
    job = job.with_logger_defs({**job.loggers, "progress": progress_logger})
    config = {**run_config(settings), "loggers": {"progress": {}}}
    # dbt's own output goes to a log file; the terminal gets one line per step.
    log_path = settings.logs_dir / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with DagsterInstance.get() as instance:
        prepare(instance, settings, run_id)
        with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
            result = job.execute_in_process(
                instance=instance,
                run_config=config,
                raise_on_error=False,
                run_id=run_id,
                # `q2c run` is its own retry (the next one recovers this one): the daemon, which
                # could not relaunch a run it did not launch, is told not to try
                tags={MAX_RETRIES_TAG: "0"},
                partition_key=f"{period}-01" if period else None,
            )
    _say(f"  full log: {log_path}")
    refused = refused_summary(result)
    if refused:
        _say(f"  {refused}")
    if result.success:
        return {"outcome": "success"}
    failures = result.get_step_failure_events()
    if failures and all(failed_on_a_gate(f) for f in failures):
        return {"outcome": "gates_failed"}
    if failures:
        event = failures[0]
        return {
            "outcome": "failed",
            "message": f"step {event.step_key} failed: {failure_line(event)}",
        }
    run = result.dagster_run
    if run.status.value == "CANCELED":
        return {"outcome": "canceled", "message": "the run was canceled"}
    return {
        "outcome": "failed",
        "message": "the run did not succeed; see the Dagster UI (make ui) for details",
    }


def refused_summary(result: Any) -> str:
    """One line for a run that refused records or kept orphans (they never fail the run, and
    are never silent): counts per source, and where to read them."""
    from pipelines.defs.ingest.checks import CHECK_NAME as QUARANTINE_CHECK
    from pipelines.defs.quality.orphans import CHECK_NAME as ORPHANS_CHECK

    refused: dict[str, int] = {}
    orphans = 0
    for evaluation in result.get_asset_check_evaluations():
        metadata = evaluation.metadata
        if evaluation.check_name == QUARANTINE_CHECK and "quarantined_records" in metadata:
            system = evaluation.asset_key.path[1]
            refused[system] = refused.get(system, 0) + metadata["quarantined_records"].value
        elif evaluation.check_name == ORPHANS_CHECK:
            orphans = metadata["orphaned_records"].value
    if not sum(refused.values()) and not orphans:
        return ""
    counts = ", ".join(f"{system} {n}" for system, n in sorted(refused.items()) if n) or "none"
    line = f"records refused by the quarantine: {counts} (raw_<system>.quarantine)"
    if orphans:
        line += f"; {orphans} records link to a missing parent (reconciliation.orphaned_records)"
    return line


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    die_with_parent(request["parent_pid"])
    # The parent stops this process with SIGINT, whatever its own start left ignored (a shell
    # starts background jobs with SIGINT ignored, and children inherit that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        outcome = execute(request)
    except KeyboardInterrupt:
        outcome = {"outcome": "canceled", "message": "stopped before the run started"}
    except Exception as exc:  # one line for the terminal; the traceback for the log
        log = Settings.resolve(**request["settings"]).logs_dir / "last_run.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as fh:
            traceback.print_exc(file=fh)
        line = redact(f"{type(exc).__name__}: {exc}".strip().splitlines()[0])
        outcome = {"outcome": "failed", "message": f"{line} (the traceback: {log})"}
    with open(request["outcome_path"], "w", encoding="utf-8") as fh:
        json.dump(outcome, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
