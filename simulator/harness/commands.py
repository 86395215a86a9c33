"""The ``q2c`` commands that need the simulator, added through the ``q2c.commands`` entry point:

q2c demo     the simulated firm -> warehouse -> checks -> month-end report, and a summary
q2c demo-ui  the Dagster UI and daemon, with the last demo's firm served behind it
q2c score    precision and recall of the exceptions against the simulator's ground truth
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

from pipelines.cli import (
    CliError,
    GatesFailed,
    exception_summary,
    materialize_all,
    say,
    serve_ui,
    write_report,
)
from pipelines.lib.tenant import TENANT_PROFILE_VAR
from pipelines.settings import AS_OF_VAR, Settings, parse_as_of


def firm_path(settings: Settings) -> Path:
    return settings.data_dir / "simulator" / "firm.duckdb"


def ground_truth_path(settings: Settings) -> Path:
    return settings.data_dir / "simulator" / "ground_truth.csv"


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from pipelines.defs.reports.month_end import last_closed_month, report_files
    from simulator.firm import FirmParams, write_ground_truth
    from simulator.harness.sources import simulated_sources

    as_of = parse_as_of(args.as_of, "--as-of") or settings.as_of
    try:
        params = FirmParams(
            seed=args.seed,
            scale=args.scale,
            as_of=as_of,
            problem_rate=args.problem_rate,
            tenant=args.tenant,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    started = time.monotonic()
    say(
        f"q2c demo: generating the simulated firm {args.tenant} "
        f"({args.scale}, seed {args.seed}, as of {as_of})"
    )
    _reset_warehouse(settings)
    with simulated_sources(firm_path(settings), params) as sim:
        say(f"q2c demo: simulator serving CRM, PSA and ERP at {sim.server.url}")
        write_ground_truth(sim.firm, ground_truth_path(settings))
        # the runs read the firm through its tenant profile (the simulated sources name it)
        settings = dataclasses.replace(
            settings, as_of=sim.as_of, tenant_profile=Path(sim.env[TENANT_PROFILE_VAR])
        )
        period = last_closed_month(settings.as_of)
        say(f"q2c demo: materializing every asset, with the month-end report of {period}")
        gates_failed = False
        try:
            materialize_all(settings, period)
        except GatesFailed:
            gates_failed = True
    if gates_failed:
        # The close withheld the report; the demo still shows what it would say, as a DRAFT.
        files, failed = write_report(settings, period, draft=True)
    else:
        files, failed = report_files(settings, period), []
    print()
    print(f"Warehouse:        {settings.warehouse_path}")
    print(f"Month-end report: {files.html}")
    if failed:
        print("                  DRAFT, not for filing: blocking gates failed:")
        for summary in failed:
            print(f"                    {summary}")
    print(f"Workbook:         {files.xlsx}")
    print(f"Ground truth:     {ground_truth_path(settings)}")
    print(f"Finished in {time.monotonic() - started:.1f} s\n")
    print(f"{'open exception type':<28} {'count':>7}  amount")
    for kind, count, amount in exception_summary(settings):
        print(f"{kind:<28} {count:>7}  {amount}")


def _reset_warehouse(settings: Settings) -> None:
    """The demo starts from nothing: a fresh warehouse and fresh dlt state."""
    for path in (settings.warehouse_path, Path(str(settings.warehouse_path) + ".wal")):
        path.unlink(missing_ok=True)
    for folder in (settings.dlt_pipelines_dir, settings.landing_dir):
        shutil.rmtree(folder, ignore_errors=True)


def cmd_demo_ui(args: argparse.Namespace, settings: Settings) -> None:
    from simulator.harness.sources import simulated_sources

    firm = firm_path(settings)
    if not firm.exists():
        raise CliError(f"no simulated firm at {firm}: run `make demo` first")
    with simulated_sources(firm, None, port=args.simulator_port) as sim:
        say(
            f"q2c demo-ui: simulator at {sim.server.url} (as of {sim.as_of}); "
            f"Dagster UI at http://127.0.0.1:{args.port}"
        )
        # dagster dev inherits the sources' environment, the firm's clock as the as-of date
        serve_ui(args.port)


def cmd_score(args: argparse.Namespace, settings: Settings) -> None:
    from simulator.harness.score import format_scores, open_exceptions, open_ground_truth, score

    firm = Path(args.firm) if args.firm else firm_path(settings)
    if not firm.exists():
        raise CliError(f"no simulated firm at {firm}: run `make demo` first")
    if not settings.warehouse_path.exists():
        raise CliError(f"no warehouse at {settings.warehouse_path}: run `make demo` first")
    scores = score(open_exceptions(settings.warehouse_path), open_ground_truth(firm))
    print(format_scores(scores))
    if any(s.precision < 1 or s.recall < 1 for s in scores):
        raise CliError("the reconciliation does not match the simulator's ground truth")


def register(sub: Any) -> None:
    """Add the harness's commands to the ``q2c`` command's subparsers."""
    demo = sub.add_parser("demo", help="run the whole pipeline on the simulated firm")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    demo.add_argument(
        "--as-of",
        default="",
        help=f"the firm's and the reconciliation's date (default {AS_OF_VAR}, else today)",
    )
    demo.add_argument("--problem-rate", type=float, default=0.03)
    demo.add_argument(
        "--tenant",
        default="simulator",
        help="which simulated firm (simulator.firm.tenants): its conventions, and its tenant "
        "profile pipelines/tenants/<tenant>.yml",
    )
    demo.set_defaults(func=cmd_demo)

    ui = sub.add_parser(
        "demo-ui", help="Dagster UI and daemon, with the last demo's simulated firm behind it"
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--simulator-port", type=int, default=8765)
    ui.set_defaults(func=cmd_demo_ui)

    score = sub.add_parser(
        "score", help="precision and recall of the exceptions against the simulator's truth"
    )
    score.add_argument("--firm", help="the simulated firm's database (default data/simulator)")
    score.set_defaults(func=cmd_score)
