"""Runs that died: found, marked failed with their history kept, their pool slots released.

Every q2c run records the process that runs it (``q2c/host``, ``q2c/pid`` and the process's
start time, as run tags set by the settings resource when the run starts). A run still
``STARTED`` (or ``STARTING``, ``CANCELING``) whose process is gone cannot finish: it is marked
failed and its slots in the ``warehouse`` pool are released, so the next run starts at once
instead of waiting for a slot no one will free. ``q2c run`` does this before it starts; the
``recover_crashed_runs`` sensor does it every minute for runs the daemon launched.

Dagster's own run monitoring cannot: the default run launcher does not report whether a run
worker is alive (``supports_check_run_worker_health`` is False), and a run ``q2c run``
executes in its own process is launched by no launcher at all.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

HOST_TAG = "q2c/host"
PID_TAG = "q2c/pid"
STARTED_TAG = "q2c/process_started"

_UNFINISHED = ("STARTING", "STARTED", "CANCELING")


def owner_tags() -> dict[str, str]:
    """The run tags naming this process: host, pid and when the process started (a pid the
    system gave to another process since does not pass for this one)."""
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
        STARTED_TAG: f"{psutil.Process().create_time():.3f}",
    }


def process_alive(tags: dict[str, str]) -> bool | None:
    """Is the process named by a run's tags alive? None when the run names none, or one on
    another machine (it cannot be told from here)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return None
    try:
        started = psutil.Process(int(tags[PID_TAG])).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return abs(started - float(tags.get(STARTED_TAG) or 0)) < 1.0


@dataclass(frozen=True)
class Recovered:
    run_id: str
    job_name: str
    pid: str


def recover_dead_runs(instance: Any, excluding: Iterable[str] = ()) -> list[Recovered]:
    """Mark failed every unfinished run of this instance whose process is gone, and release its
    pool slots. Their events are kept: the run's history says how far it got."""
    from dagster import DagsterRunStatus, RunsFilter

    skip = set(excluding)
    records = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus[s] for s in _UNFINISHED])
    )
    recovered = []
    for record in records:
        run = record.dagster_run
        if run.run_id in skip or process_alive(run.tags) is not False:
            continue
        pid = run.tags[PID_TAG]
        instance.report_run_failed(
            run,
            message=(
                f"q2c: the process running this run (pid {pid} on {run.tags[HOST_TAG]}) is gone "
                "(killed or crashed); marked failed so that the next run can start"
            ),
        )
        # The daemon frees a finished run's slots too (run_monitoring), but only where it runs.
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(Recovered(run.run_id, run.job_name, pid))
    return recovered


def live_runs(instance: Any, excluding: Iterable[str] = ()) -> list[Any]:
    """Unfinished runs of this instance whose process is alive, or cannot be told dead."""
    from dagster import DagsterRunStatus, RunsFilter

    skip = set(excluding)
    records = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus[s] for s in _UNFINISHED])
    )
    return [
        r.dagster_run
        for r in records
        if r.dagster_run.run_id not in skip and process_alive(r.dagster_run.tags) is not False
    ]


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp(\.wal)?$")
"""What q2c writes aside before renaming it into place: ``.<name>.<pid>.tmp`` (and DuckDB's
``.wal`` beside a database written so)."""


def temporary_files(folders: Iterable[Path]) -> list[Path]:
    """The temporary files q2c wrote aside in ``folders``, whoever wrote them."""
    return sorted(
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.iterdir()
        if _TEMPORARY.match(path.name)
    )


def stale_files(folders: Iterable[Path]) -> list[Path]:
    """Temporary files in ``folders`` left by q2c processes that no longer run (a killed
    publish of the analysts' copy, a killed report)."""
    return [path for path in temporary_files(folders) if not psutil.pid_exists(_writer_pid(path))]


def _writer_pid(path: Path) -> int:
    """The pid in a temporary file's name (``temporary_files`` only lists names that have one)."""
    match = _TEMPORARY.match(path.name)
    assert match is not None
    return int(match.group(1))
