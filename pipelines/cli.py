"""``q2c``: run the warehouse from a terminal.

    q2c run      materialize everything against the configured sources
    q2c report   the month-end report of one month from the current warehouse
    q2c ui       the Dagster UI and daemon on 127.0.0.1:3000, against the configured sources

More commands come from the ``q2c.commands`` entry points of installed packages: the
simulator's harness adds ``q2c demo``, ``q2c demo-ui`` and ``q2c score``.

The command reads its settings from the environment once (``Settings.from_env``) and gives
them to the run as its run config. Every command exits non-zero with a one-line reason when
something fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

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
    dagster_dir = os.environ.get(DAGSTER_DIR_VAR) or settings.data_dir / "dagster"
    os.environ[DAGSTER_DIR_VAR] = str(Path(dagster_dir).resolve())
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.chdir(PROJECT_ROOT)


def run_config(settings: Settings) -> dict[str, Any]:
    """The run config of a run with these settings, its as-of date pinned."""
    from pipelines.defs.resources import RunSettings

    return RunSettings.of(settings, as_of=settings.as_of).run_config()


def materialize_all(settings: Settings, period: str | None = None) -> str:
    """Run the refresh job (or, for a period ``YYYY-MM``, the month-end close) in this process
    on the project's Dagster instance, with ``settings``; return the run's id."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs
    from pipelines.defs.quality.checks import failed_on_a_gate

    job = defs.resolve_job_def("month_end_close" if period else "refresh_warehouse")
    job = job.with_logger_defs({**job.loggers, "progress": _progress_logger()})
    config = {**run_config(settings), "loggers": {"progress": {}}}
    # dbt's own output goes to a log file; the terminal gets one line per step.
    log_path = settings.logs_dir / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        DagsterInstance.get() as instance,
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
    ):
        result = job.execute_in_process(
            instance=instance,
            run_config=config,
            raise_on_error=False,
            partition_key=f"{period}-01" if period else None,
        )
    say(f"  full log: {log_path}")
    if not result.success:
        failures = result.get_step_failure_events()
        if failures and all(failed_on_a_gate(f) for f in failures):
            raise GatesFailed("blocking gates failed; the month-end report was withheld")
        if failures:
            event = failures[0]
            raise CliError(f"step {event.step_key} failed: {failure_line(event)}")
        raise CliError("the run did not succeed; see the Dagster UI (make ui) for details")
    return result.run_id


def failure_line(step_failure: Any) -> str:
    """The one line that says why a step failed: a ``Failure``'s description (the sources'
    refusals say the setting to check), else the last line of the error."""
    data = step_failure.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description.strip().splitlines()[0]
    error = data.error
    cause = error.cause or error
    lines = (cause.message or "").strip().splitlines()
    return lines[-1] if lines else "unknown error"


def _progress_logger() -> Any:
    from pipelines.lib.progress import progress_logger

    return progress_logger


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
    prepare_environment(settings)
    try:
        args.func(args, settings)
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
