"""``q2c``: run the warehouse from a terminal.

    q2c run      materialize everything against the configured sources
    q2c report   the month-end report of one month from the current warehouse
    q2c ui       the Dagster UI and daemon on 127.0.0.1:3000, against the configured sources
    q2c doctor   check the sources and the tenant profile (one page of each) and link coverage

More commands come from the ``q2c.commands`` entry points of installed packages: the
simulator's harness adds ``q2c demo``, ``q2c demo-ui`` and ``q2c score``.

The command reads its settings from the environment once (``Settings.from_env``) and gives
them to the run as its run config. Every command exits non-zero with a one-line reason when
something fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pipelines.lib.tenant import TENANT_PROFILE_VAR
from pipelines.settings import (
    ANALYTICS_PATH_VAR,
    DATA_DIR_VAR,
    PROJECT_ROOT,
    WAREHOUSE_PATH_VAR,
    Settings,
    SettingsError,
)

COMMANDS_GROUP = "q2c.commands"
"""Entry points adding commands: ``name = "module:register"``, ``register(subparsers)``
adding subparsers whose ``func(args, settings)`` runs the command."""

DAGSTER_DIR_VAR = "Q2C_DAGSTER_DIR"


class CliError(Exception):
    """A failure explained in one line for the person at the terminal."""


class GatesFailed(CliError):
    """The run did everything but the month-end report: blocking gates failed."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_environment(settings: Settings) -> None:
    """The settings, absolute, where the processes q2c starts look for them (dbt, the Dagster
    UI's code location); Dagster's instance under the data folder; the project root as the
    working directory (dagster.yaml there is the instance configuration)."""
    os.environ[DATA_DIR_VAR] = str(settings.data_dir)
    os.environ[WAREHOUSE_PATH_VAR] = str(settings.warehouse_path)
    os.environ[ANALYTICS_PATH_VAR] = str(settings.analytics_path)
    os.environ[TENANT_PROFILE_VAR] = str(settings.tenant_profile)
    dagster_dir = os.environ.get(DAGSTER_DIR_VAR) or settings.data_dir / "dagster"
    os.environ[DAGSTER_DIR_VAR] = str(Path(dagster_dir).resolve())
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.chdir(PROJECT_ROOT)


def run_config(settings: Settings) -> dict[str, Any]:
    """The run config of a run with these settings, its as-of date pinned."""
    from pipelines.defs.resources import RunSettings

    return RunSettings.of(settings, as_of=settings.as_of).run_config()


class Stopped(CliError):
    """The run was stopped by a signal (Ctrl-C, SIGTERM) and canceled."""

    def __init__(self, signum: int, what: str | None = None) -> None:
        what = what or "the run was canceled"
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}: {what}")


STOP_GRACE_SECONDS = 8
"""How long a stopped run may take to end its step before its process group is killed: short
enough that q2c has cleaned up before a container runtime's own SIGKILL (Docker's 10 s)."""


def materialize_all(settings: Settings, period: str | None = None) -> str:
    """Run the refresh job (or, for a period ``YYYY-MM``, the month-end close) on the project's
    Dagster instance, with ``settings``; return the run's id.

    The run executes in a process of its own (``pipelines/run_worker.py``) that this one
    watches: SIGTERM or Ctrl-C here cancels the run in Dagster and ends it within seconds.
    """
    run_id = str(uuid.uuid4())
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    outcome_path = settings.logs_dir / f".run-{run_id}.json"
    request = {
        "run_id": run_id,
        "period": period,
        "parent_pid": os.getpid(),
        "outcome_path": str(outcome_path),
        "settings": {
            "data_dir": str(settings.data_dir),
            "warehouse_path": str(settings.warehouse_path),
            "analytics_path": str(settings.analytics_path),
            "as_of": settings.as_of.isoformat(),
            "tenant_profile": str(settings.tenant_profile),
        },
    }
    command = [sys.executable, "-m", "pipelines.run_worker", json.dumps(request)]
    # Its own session: a terminal's Ctrl-C reaches this process, which cancels the run first.
    worker = subprocess.Popen(command, start_new_session=True)
    try:
        with _signals_raise():
            worker.wait()
    except Stopped as stop:
        started = _cancel(worker, run_id, stop.signum)
        outcome_path.unlink(missing_ok=True)
        raise Stopped(stop.signum, None if started else "before its run started") from None
    try:
        outcome = json.loads(outcome_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log = settings.logs_dir / "last_run.log"
        outcome = {
            "outcome": "failed",
            "message": f"the run's process ended with status {worker.returncode}; see {log}",
        }
    outcome_path.unlink(missing_ok=True)
    if outcome["outcome"] == "gates_failed":
        raise GatesFailed("blocking gates failed; the month-end report was withheld")
    if outcome["outcome"] != "success":
        raise CliError(outcome["message"])
    return run_id


def _kill_group(worker: subprocess.Popen) -> None:
    """The worker and what it started (dbt), at once: it leads its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Stopped`` in this process for the block."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cancel(worker: subprocess.Popen, run_id: str, signum: int) -> bool:
    """Cancel the run in Dagster and end its process: canceling first, so that the worker's
    interruption ends the run as canceled (not failed); killed after the grace period, and
    then marked canceled and its pool slots released here. Did the run start?"""
    from dagster import DagsterInstance

    name = signal.Signals(signum).name
    say(f"q2c: {name}: canceling run {run_id[:8]} (at most {STOP_GRACE_SECONDS} s)")
    # A second signal while stopping kills at once.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: _kill_group(worker))
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_canceling(run, message=f"q2c: stopped by {name}")
        with contextlib.suppress(ProcessLookupError):
            worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(worker)
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_canceled(run, message=f"q2c: stopped by {name}; its process killed")
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return run is not None


def failure_line(step_failure: Any) -> str:
    """The one line that says why a step failed: a ``Failure``'s description (the sources'
    refusals say the setting to check), else the last line of the error."""
    from pipelines.lib.extract import redact

    data = step_failure.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return redact(data.user_failure_data.description.strip().splitlines()[0])
    error = data.error
    cause = error.cause or error
    lines = (cause.message or "").strip().splitlines()
    return redact(lines[-1]) if lines else "unknown error"


def exception_summary(settings: Settings) -> list[tuple[str, int, str]]:
    """Open exceptions by type, with their value in the reporting currency (USD)."""
    from pipelines.lib.warehouse import connect

    with connect(settings.warehouse_path) as con:
        rows = con.execute(
            """
            select exception_type, count(*), sum(amount_reporting)
            from reconciliation.exceptions
            where status = 'open'
            group by exception_type
            order by exception_type
            """
        ).fetchall()
    return [
        (kind, count, f"USD {amount:,.2f}" if amount is not None else "")
        for kind, count, amount in rows
    ]


def cmd_run(args: argparse.Namespace, settings: Settings) -> None:
    say(
        f"q2c run: materializing every asset against the configured sources, as of {settings.as_of}"
    )
    materialize_all(settings)
    say(f"q2c run: done; warehouse at {settings.warehouse_path}")


def dagster_dev_command(port: int) -> list[str]:
    """The Dagster webserver and daemon (``dagster dev``) on 127.0.0.1:``port``, loading the
    project's one code location."""
    return [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]


def serve_ui(port: int, env: dict[str, str] | None = None) -> None:
    """``dagster dev`` in the foreground until it stops (Ctrl-C stops it)."""
    try:
        subprocess.run(dagster_dev_command(port), check=True, env=env)
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as exc:
        raise CliError(f"dagster dev exited with status {exc.returncode}") from exc


def cmd_ui(args: argparse.Namespace, settings: Settings) -> None:
    say(f"q2c ui: Dagster UI at http://127.0.0.1:{args.port}, against the configured sources")
    serve_ui(args.port)


def period_argument(text: str) -> str:
    """``YYYY-MM``, or an argparse error naming the expected form."""
    try:
        date.fromisoformat(f"{text}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month: use YYYY-MM") from None
    if len(text) != 7:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month: use YYYY-MM")
    return text


def write_report(settings: Settings, period: str, *, draft: bool) -> tuple[object, list[str]]:
    """The report of ``period`` from the current warehouse: final when every blocking gate's
    latest validation passed; otherwise the DRAFT when ``draft``, else a refusal naming the
    gates. Returns the files and the failed gates' one-line summaries."""
    import duckdb

    from pipelines.defs.quality.history import failed_blocking_gates
    from pipelines.defs.reports.month_end import render_report
    from pipelines.defs.reports.sections import ReportError

    if not settings.warehouse_path.exists():
        raise CliError(f"no warehouse at {settings.warehouse_path}: run `make demo` or `q2c run`")
    try:
        failed = [outcome.summary() for outcome in failed_blocking_gates(settings)]
        if failed and not draft:
            raise CliError(
                f"the {period} report is withheld, blocking gates failed: {'; '.join(failed)} "
                "(--draft writes a DRAFT)"
            )
        return render_report(settings, period, draft_reasons=failed), failed
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    except duckdb.IOException as exc:
        raise CliError(
            f"cannot read {settings.warehouse_path} (a run may be writing it; try again when "
            f"it finishes): {str(exc).splitlines()[0]}"
        ) from exc


def cmd_report(args: argparse.Namespace, settings: Settings) -> None:
    files, failed = write_report(settings, args.period, draft=args.draft)
    if failed:
        say(f"q2c report: DRAFT, not for filing: {len(failed)} blocking gates failed:")
        for summary in failed:
            say(f"  {summary}")
    print(files.html)
    print(files.xlsx)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> None:
    from pipelines.doctor import link_coverage, probe_sources

    say(f"q2c doctor: tenant profile {settings.tenant_profile} ({settings.tenant.name})")
    failed = 0
    for finding in [*probe_sources(settings), *link_coverage(settings)]:
        print(finding, flush=True)
        failed += not finding.ok
    if failed:
        raise CliError(f"{failed} findings to fix (the lines marked FAIL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="q2c", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        register: Callable[[Any], None] = entry.load()
        register(sub)

    run = sub.add_parser("run", help="materialize everything against the configured sources")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser(
        "report", help="the month-end report of one month (HTML and Excel) from the warehouse"
    )
    report.add_argument("--period", type=period_argument, required=True, help="the month, YYYY-MM")
    report.add_argument(
        "--draft",
        action="store_true",
        help="when blocking gates failed, write the DRAFT report (naming them) instead of refusing",
    )
    report.set_defaults(func=cmd_report)

    doctor = sub.add_parser(
        "doctor",
        help="check the sources and the tenant profile (one page of each resource, nothing "
        "written) and the last build's link coverage",
    )
    doctor.set_defaults(func=cmd_doctor)

    ui = sub.add_parser("ui", help="Dagster UI and daemon, against the configured sources")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        say(f"q2c {args.command}: {exc}")
        return 2
    with _restored_process_state():
        return _run_command(args, settings)


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """The environment and working directory as they were, after the command: a caller that
    runs ``main`` in its own process (a test, a notebook) keeps its own."""
    environ, cwd = dict(os.environ), os.getcwd()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)


def _run_command(args: argparse.Namespace, settings: Settings) -> int:
    prepare_environment(settings)
    try:
        args.func(args, settings)
    except Stopped as exc:
        say(f"q2c {args.command}: {exc}")
        return 128 + exc.signum
    except (CliError, SettingsError) as exc:
        say(f"q2c {args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        say(f"q2c {args.command}: interrupted")
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        say(f"q2c {args.command}: {type(exc).__name__}: {exc}")
        if os.environ.get("Q2C_DEBUG"):
            raise
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
