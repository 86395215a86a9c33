"""Command line of the simulator: generate a firm, advance its clock, export its ground
truth, serve its vendor APIs.

    python -m simulator generate --db firm.duckdb --seed 42 --scale small \\
        --as-of 2026-11-25 --problem-rate 0.03
    python -m simulator advance --db firm.duckdb --days 1
    python -m simulator truth --db firm.duckdb --out truth.csv
    Q2C_SIM_TOKEN=... python -m simulator serve --db firm.duckdb --port 8765

Errors are one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from simulator.firm import SCALES, FirmError, FirmParams, advance, generate, write_ground_truth
from simulator.firm.tenants import TENANTS, firm_conventions

TOKEN_ENV = "Q2C_SIM_TOKEN"
ACCOUNT_ENV = "Q2C_SIM_HARVEST_ACCOUNT_ID"
DEFAULT_ACCOUNT = "100001"


class CliError(Exception):
    """An error to print as one line (exit status 1)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _existing_db(path: str) -> duckdb.DuckDBPyConnection:
    """Open a firm database that must exist (duckdb would silently create a new one)."""
    if not Path(path).is_file():
        raise CliError(f"no database at {path}: run 'python -m simulator generate' first")
    return _connect(path)


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path)
    con.execute("set enable_progress_bar = false")  # our own progress lines go to stderr
    return con


def cmd_generate(args: argparse.Namespace) -> None:
    db = Path(args.db)
    if db.exists():
        if not args.force:
            raise CliError(f"{db} already exists: choose another path or pass --force")
        db.unlink()
        Path(f"{db}.wal").unlink(missing_ok=True)
    try:
        params = FirmParams(
            seed=args.seed,
            scale=args.scale,
            as_of=args.as_of,
            problem_rate=args.problem_rate,
            grace_days=args.grace_days,
            tenant=args.tenant,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    db.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(str(db))
    try:
        generate(con, params, progress=_progress)
        counts = con.execute(
            "select count(*), count(*) filter (where resolved_at is null) from sim_ground_truth"
        ).fetchone()
    finally:
        con.close()
    print(
        f"generated {args.scale} firm (seed {args.seed}, as of {args.as_of}) in {db}; "
        f"{counts[1]} open planted problems"
    )


def cmd_advance(args: argparse.Namespace) -> None:
    con = _existing_db(args.db)
    try:
        s = advance(con, days=args.days, progress=_progress)
    finally:
        con.close()
    print(f"clock {s.clock_from:%Y-%m-%d %H:%M} -> {s.clock_to:%Y-%m-%d %H:%M}")
    for label, counts in (("inserted", s.inserted), ("updated", s.updated), ("deleted", s.deleted)):
        shown = ", ".join(f"{t} {n}" for t, n in counts.items() if n)
        print(f"  {label}: {shown or 'nothing'}")
    for label, items in (("fixed", s.fixed), ("planted", s.planted), ("deletes", s.deletes)):
        for item in items:
            print(f"  {label}: {item}")
    print(f"  ground truth: {s.truth_opened} rows opened, {s.truth_resolved} resolved")


def cmd_truth(args: argparse.Namespace) -> None:
    con = _existing_db(args.db)
    try:
        n = write_ground_truth(con, args.out)
        open_n = con.execute(
            "select count(*) from sim_ground_truth where resolved_at is null"
        ).fetchone()[0]
    finally:
        con.close()
    print(f"{n} ground-truth rows ({open_n} open) written to {args.out}")


def cmd_serve(args: argparse.Namespace) -> None:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise CliError(f"set {TOKEN_ENV} to the API token clients must present")
    account = os.environ.get(ACCOUNT_ENV, DEFAULT_ACCOUNT)
    try:
        from simulator.api.server import SimulatorServer
    except ImportError as exc:
        raise CliError(f"the simulator API layer is not available: {exc}") from None
    con = _existing_db(args.db)
    conventions = firm_conventions(con)
    server = SimulatorServer(
        con,
        token=token,
        harvest_account_id=account,
        host=args.host,
        port=args.port,
        erp_field_names=conventions.erp_field_names,
        hidden_crm_fields=conventions.hidden_crm_fields,
    )
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"serving {args.db} ({conventions.name} conventions) at {server.url}", flush=True)
    print(f"  CRM (Salesforce): {server.crm_base_url}")
    print(f"  PSA (Harvest):    {server.psa_base_url}")
    print(f"  ERP (NetSuite):   {server.erp_base_url}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        con.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="The q2c simulator: a synthetic consulting firm behind Salesforce, "
        "Harvest and NetSuite look-alike APIs, with planted problems.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="create a firm database")
    g.add_argument("--db", required=True, help="DuckDB file to create")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--scale", choices=list(SCALES), default="small")
    g.add_argument(
        "--as-of",
        type=_date,
        default=FirmParams.as_of,
        dest="as_of",
        help="the clock's date, YYYY-MM-DD (default %(default)s)",
    )
    g.add_argument(
        "--problem-rate",
        type=float,
        default=0.03,
        dest="problem_rate",
        help="share of records with planted problems; 0 = clean firm",
    )
    g.add_argument(
        "--grace-days",
        type=int,
        default=10,
        dest="grace_days",
        help="days after month end before unbilled time is an exception",
    )
    g.add_argument(
        "--tenant",
        choices=list(TENANTS),
        default="simulator",
        help="whose conventions the firm's systems keep (profile: pipelines/tenants/<tenant>.yml)",
    )
    g.add_argument("--force", action="store_true", help="overwrite an existing file")
    g.set_defaults(func=cmd_generate)

    a = sub.add_parser("advance", help="move the firm's clock forward")
    a.add_argument("--db", required=True)
    a.add_argument("--days", type=int, default=1)
    a.set_defaults(func=cmd_advance)

    t = sub.add_parser("truth", help="write the ground truth as CSV")
    t.add_argument("--db", required=True)
    t.add_argument("--out", required=True, help="CSV file to write")
    t.set_defaults(func=cmd_truth)

    s = sub.add_parser("serve", help=f"serve the vendor APIs (token from ${TOKEN_ENV})")
    s.add_argument("--db", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CliError, FirmError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: database: {first}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
