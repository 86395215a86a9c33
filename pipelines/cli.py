"""``q2c``: run the warehouse from a terminal.

    q2c demo     the simulated firm -> warehouse -> checks -> month-end report, and a summary
    q2c run      materialize everything against the configured sources
    q2c ui       the Dagster UI and daemon on 127.0.0.1:3000 (with the simulator behind it)
    q2c score    precision and recall of the exceptions against the simulator's ground truth
    q2c report   the month-end report of one month from the current warehouse

Every command exits non-zero with a one-line reason when something fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from pipelines.settings import PROJECT_ROOT, Settings


class CliError(Exception):
    """A failure explained in one line for the person at the terminal."""


class GatesFailed(CliError):
    """The run did everything but the month-end report: blocking gates failed."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _prepare_environment() -> None:
    # Paths given relative to where q2c was started are made absolute before moving to the
    # project root (dagster.yaml there is the instance configuration; it stores under
    # Q2C_DAGSTER_DIR, by default the data folder's dagster/).
    for name in ("Q2C_DATA_DIR", "Q2C_WAREHOUSE_PATH", "Q2C_DAGSTER_DIR"):
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).resolve())
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.environ.setdefault("Q2C_DAGSTER_DIR", str(Settings.from_env().data_dir / "dagster"))
    os.chdir(PROJECT_ROOT)


def materialize_all(period: str | None = None) -> str:
    """Run the refresh job (or, for a period ``YYYY-MM``, the month-end close) in this process
    on the project's Dagster instance; return the run's id."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs
    from pipelines.defs.quality.checks import failed_on_a_gate

    job = defs.resolve_job_def("month_end_close" if period else "refresh_warehouse")
    run_config = {"loggers": {"progress": {}}}
    job = job.with_logger_defs({**job.loggers, "progress": _progress_logger()})
    # dbt's own output goes to a log file; the terminal gets one line per step.
    log_path = Settings.from_env().data_dir / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        DagsterInstance.get() as instance,
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
    ):
        result = job.execute_in_process(
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
            partition_key=f"{period}-01" if period else None,
        )
    _say(f"  full log: {log_path}")
    if not result.success:
        failures = result.get_step_failure_events()
        if failures and all(failed_on_a_gate(f) for f in failures):
            raise GatesFailed("blocking gates failed; the month-end report was withheld")
        if failures:
            event = failures[0]
            error = event.step_failure_data.error
            cause = error.cause or error
            first = (cause.message or "").strip().splitlines()
            reason = first[-1] if first else "unknown error"
            raise CliError(f"step {event.step_key} failed: {reason}")
        raise CliError("the run did not succeed; see the Dagster UI (make ui) for details")
    return result.run_id


def _progress_logger():
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


def cmd_demo(args: argparse.Namespace) -> None:
    from pipelines.lib.simulated import simulated_sources
    from simulator.firm import FirmParams

    settings = Settings.from_env()
    as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    params = FirmParams(
        seed=args.seed, scale=args.scale, as_of=as_of, problem_rate=args.problem_rate
    )
    firm_db = settings.data_dir / "simulator" / "firm.duckdb"
    started = time.monotonic()
    _say(f"q2c demo: generating the simulated firm ({args.scale}, seed {args.seed}, as of {as_of})")
    _reset_warehouse(settings)
    with simulated_sources(firm_db, params) as sim:
        _say(f"q2c demo: simulator serving CRM, PSA and ERP at {sim.server.url}")
        from simulator.firm import write_ground_truth

        write_ground_truth(sim.firm, settings.data_dir / "simulator" / "ground_truth.csv")
        settings = Settings.from_env()
        from pipelines.defs.reports.month_end import last_closed_month

        period = last_closed_month(settings.as_of)
        _say(f"q2c demo: materializing every asset, with the month-end report of {period}")
        gates_failed = False
        try:
            materialize_all(period)
        except GatesFailed:
            gates_failed = True
    if gates_failed:
        # The close withheld the report; the demo still shows what it would say, as a DRAFT.
        files, failed = write_report(settings, period, draft=True)
    else:
        from pipelines.defs.reports.month_end import report_files

        files, failed = report_files(settings, period), []
    print()
    print(f"Warehouse:        {settings.warehouse_path}")
    print(f"Month-end report: {files.html}")
    if failed:
        print("                  DRAFT, not for filing: blocking gates failed:")
        for summary in failed:
            print(f"                    {summary}")
    print(f"Workbook:         {files.xlsx}")
    print(f"Ground truth:     {settings.data_dir / 'simulator' / 'ground_truth.csv'}")
    print(f"Finished in {time.monotonic() - started:.1f} s\n")
    print(f"{'open exception type':<28} {'count':>7}  amount")
    for kind, count, amount in exception_summary(settings):
        print(f"{kind:<28} {count:>7}  {amount}")


def _reset_warehouse(settings: Settings) -> None:
    """The demo starts from nothing: a fresh warehouse and fresh dlt state."""
    import shutil

    for path in (settings.warehouse_path, Path(str(settings.warehouse_path) + ".wal")):
        path.unlink(missing_ok=True)
    for folder in (settings.dlt_pipelines_dir, settings.landing_dir):
        shutil.rmtree(folder, ignore_errors=True)


def cmd_run(args: argparse.Namespace) -> None:
    _say("q2c run: materializing every asset against the configured sources")
    materialize_all()
    _say(f"q2c run: done; warehouse at {Settings.from_env().warehouse_path}")


def dagster_dev_command(port: int) -> list[str]:
    """The Dagster webserver and daemon (``dagster dev``) on 127.0.0.1:``port``, loading the
    project's one code location. ``q2c ui`` runs it; so does the UI test."""
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


def cmd_ui(args: argparse.Namespace) -> None:
    from pipelines.lib.simulated import simulated_sources

    settings = Settings.from_env()
    firm_db = settings.data_dir / "simulator" / "firm.duckdb"
    if not firm_db.exists():
        raise CliError(f"no simulated firm at {firm_db}: run `make demo` first")
    with simulated_sources(firm_db, None, port=args.simulator_port) as sim:
        _say(f"q2c ui: simulator at {sim.server.url}; Dagster UI at http://127.0.0.1:{args.port}")
        try:
            subprocess.run(dagster_dev_command(args.port), check=True)
        except KeyboardInterrupt:
            pass
        except subprocess.CalledProcessError as exc:
            raise CliError(f"dagster dev exited with status {exc.returncode}") from exc


def cmd_score(args: argparse.Namespace) -> None:
    from pipelines.lib.score import format_scores, open_exceptions, open_ground_truth, score

    settings = Settings.from_env()
    firm_db = Path(args.firm) if args.firm else settings.data_dir / "simulator" / "firm.duckdb"
    if not firm_db.exists():
        raise CliError(f"no simulated firm at {firm_db}: run `make demo` first")
    if not settings.warehouse_path.exists():
        raise CliError(f"no warehouse at {settings.warehouse_path}: run `make demo` first")
    scores = score(open_exceptions(settings.warehouse_path), open_ground_truth(firm_db))
    print(format_scores(scores))
    if any(s.precision < 1 or s.recall < 1 for s in scores):
        raise CliError("the reconciliation does not match the simulator's ground truth")


def _period(text: str) -> str:
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


def cmd_report(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    files, failed = write_report(settings, args.period, draft=args.draft)
    if failed:
        _say(f"q2c report: DRAFT, not for filing: {len(failed)} blocking gates failed:")
        for summary in failed:
            _say(f"  {summary}")
    print(files.html)
    print(files.xlsx)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="q2c", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline on the simulated firm")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    demo.add_argument(
        "--as-of",
        default=os.environ.get("Q2C_AS_OF_DATE", ""),
        help="the firm's and the reconciliation's date (default today)",
    )
    demo.add_argument("--problem-rate", type=float, default=0.03)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="materialize everything against the configured sources")
    run.set_defaults(func=cmd_run)

    ui = sub.add_parser("ui", help="Dagster UI and daemon, with the simulator behind it")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--simulator-port", type=int, default=8765)
    ui.set_defaults(func=cmd_ui)
    score = sub.add_parser(
        "score", help="precision and recall of the exceptions against the simulator's truth"
    )
    score.add_argument("--firm", help="the simulated firm's database (default data/simulator)")
    score.set_defaults(func=cmd_score)

    report = sub.add_parser(
        "report", help="the month-end report of one month (HTML and Excel) from the warehouse"
    )
    report.add_argument("--period", type=_period, required=True, help="the month, YYYY-MM")
    report.add_argument(
        "--draft",
        action="store_true",
        help="when blocking gates failed, write the DRAFT report (naming them) instead of refusing",
    )
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _prepare_environment()
    try:
        args.func(args)
    except CliError as exc:
        _say(f"q2c {args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        _say(f"q2c {args.command}: interrupted")
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        _say(f"q2c {args.command}: {type(exc).__name__}: {exc}")
        if os.environ.get("Q2C_DEBUG"):
            raise
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
