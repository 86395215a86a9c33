"""`make score`: precision and recall of every exception type, for every simulated tenant and
scale, on the first run and after the firm has moved on.

For each tenant (simulator.firm.tenants) and scale: generate the firm, serve it, run the
refresh as `q2c run` runs it (the tenant's own profile, which the simulated sources name),
score the open exceptions against the open ground truth, advance the firm a week twice, run
again and score again. Nothing but the profile differs between tenants. Results go to
benchmarks/results/scores.md; the exit status is 1 when any type is below 1.00.

    python -m benchmarks.score --scales small medium --tenants simulator atelier
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines.cli import GatesFailed, materialize_all, prepare_environment
from pipelines.lib.tenant import TENANT_PROFILE_VAR
from pipelines.settings import Settings
from simulator.firm import FirmParams, advance
from simulator.firm.store import Store
from simulator.firm.tenants import TENANTS
from simulator.firm.truth import open_truth
from simulator.harness import simulated_sources
from simulator.harness.score import TypeScore, format_scores, open_exceptions, score
from simulator.harness.sources import firm_as_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scores.md"
AS_OF = date(2026, 11, 25)
ADVANCES = (7, 7)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(settings: Settings) -> float:
    prepare_environment(settings)
    started = time.monotonic()
    # the planted problems fail the gates: the exceptions are what is scored
    with contextlib.suppress(GatesFailed):
        materialize_all(settings)
    return time.monotonic() - started


def score_one(
    tenant: str, scale: str, seed: int, work: Path
) -> list[tuple[str, list[TypeScore], float]]:
    data_dir = work / f"{tenant}-{scale}"
    params = FirmParams(seed=seed, scale=scale, as_of=AS_OF, problem_rate=0.03, tenant=tenant)
    out = []
    firm = data_dir / "simulator" / "firm.duckdb"
    with simulated_sources(firm, params) as sim:
        # every path from this firm's data folder (a run sets them in the environment)
        settings = Settings.resolve(
            data_dir=data_dir, as_of=sim.as_of, tenant_profile=sim.env[TENANT_PROFILE_VAR]
        )
        for label in ("first run", f"after advancing {' + '.join(map(str, ADVANCES))} days"):
            if label != "first run":
                for days in ADVANCES:
                    advance(sim.firm, days=days)
                as_of = date.fromisoformat(firm_as_of(sim.firm))
                settings = dataclasses.replace(settings, as_of=as_of)
            seconds = _run(settings)
            truth = {(t, s, str(r)) for t, s, r in open_truth(Store(sim.firm))}
            scores = score(open_exceptions(settings.warehouse_path), truth)
            say(f"{tenant} {scale} {label} ({seconds:.0f} s)\n{format_scores(scores)}")
            out.append((label, scores, seconds))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "medium"])
    parser.add_argument("--tenants", nargs="+", default=list(TENANTS), choices=list(TENANTS))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    lines = [
        "# Precision and recall per tenant and scale",
        "",
        f"`python -m benchmarks.score` (seed {args.seed}, as of {AS_OF}, problem rate 0.03); "
        "each firm read through its own tenant profile only.",
        "",
        "| tenant | scale | run | types | planted (open) | found | precision | recall | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    perfect = True
    with tempfile.TemporaryDirectory(prefix="q2c-score-") as tmp:
        for tenant in args.tenants:
            for scale in args.scales:
                for label, scores, seconds in score_one(tenant, scale, args.seed, Path(tmp)):
                    expected = sum(s.expected for s in scores)
                    found = sum(s.found for s in scores)
                    low_p = min((s.precision for s in scores), default=1.0)
                    low_r = min((s.recall for s in scores), default=1.0)
                    perfect &= low_p == low_r == 1.0
                    lines.append(
                        f"| {tenant} | {scale} | {label} | {len(scores)} | {expected} | {found} "
                        f"| {low_p:.2f} | {low_r:.2f} | {seconds:.0f} |"
                    )
    lines += [
        "",
        "Precision and recall are the lowest over the exception types of the run; seconds are "
        "the run's wall time, whatever else the machine was doing (not a benchmark).",
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"written {RESULTS}")
    return 0 if perfect else 1


if __name__ == "__main__":
    raise SystemExit(main())
