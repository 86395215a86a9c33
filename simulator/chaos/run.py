"""`make chaos`: the whole pipeline through faults, kills and malformed records, compared with
a clean run's warehouse.

    python -m simulator.chaos [--only rate_limits kills ...] [--jobs 2] [--run-timeout 300]

Issue #17 asks for proof that stays: that q2c survives what a network, an operator and a
vendor do to it, measured the way an operator meets it (``q2c run`` in a terminal) and kept
in the repository so that a change cannot quietly break it. One small firm is generated
(seed fixed) and served by the simulator; everything below runs against it:

1. **clean**: ``q2c run`` into a fresh data folder, straight at the simulator; its warehouse's
   fingerprint (``simulator.chaos.fingerprint``) and its analysts' copy are the reference.
2. **fault profiles**: for each ``PROFILES`` entry a fresh data folder and the same run through
   the chaos proxy (``simulator.chaos.proxy``). The run must succeed, every fault must be
   followed by a full answer to the same request, the warehouse and the analysts' copy must
   equal the clean ones table by table, and each source's asset metadata must count exactly
   the requests and retries the proxy saw.
3. **kill -9**: one data folder; at each of ``KILL_POINTS`` a run is killed (SIGKILL to the
   ``q2c run`` process group, or to all its processes at once, when its progress lines, the
   proxy or the files show it at that point), then a plain ``q2c run`` follows in the same
   folder. It must complete with no
   manual step, say which run it recovered, leave no run unfinished in Dagster and no
   temporary file behind, and build the clean warehouse; the analysts' copy must survive
   the kill untouched and open read-only with every table afterwards.
4. **malformed**: a fresh data folder, the proxy rewriting one record of each malformed kind
   (``simulator.chaos.records``). The run must not fail; each bad record must be in
   ``raw_<system>.quarantine`` with a reason and the payload as sent, every good record loaded
   (each raw table equals the clean run's less the bad records), the run must say it refused
   records, and every mart and the analysts' copy must still be built.

One table is printed at the end (stdout), then one line per failed check; the exit status is
non-zero when anything failed. Every ``q2c run`` has a timeout, so a hang is a failure, not a
stuck suite. The runs' output is kept in ``data/chaos/`` (the tokens are random per suite and
never printed; the suite checks that the output holds none).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import duckdb
import psutil

from pipelines.lib import runs
from pipelines.settings import patched_environ
from simulator.api.wire import dumps
from simulator.chaos.fingerprint import (
    ANALYTICS_SCHEMAS,
    LOAD_TABLES,
    TableHash,
    differences,
    equal_tables,
    excluded_columns,
    fingerprint,
)
from simulator.chaos.proxy import FAULT_KINDS, PASS_THROUGH, ChaosProxy, FaultLog, Profile
from simulator.chaos.records import EXPECTED_LOADED, RecordRewriter, Rewritten, id_key
from simulator.firm import FirmParams
from simulator.harness import SimulatedSources, simulated_sources, source_env

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "data" / "chaos"
Q2C = Path(sys.executable).parent / "q2c"
AS_OF = date(2026, 11, 25)
FIRM_SEED = 42
RUN_TIMEOUT_SECONDS = 300
STALL_READ_TIMEOUT = "5"
"""dlt's ``RUNTIME__REQUEST_TIMEOUT`` under a profile that stalls: shorter than the stall, so
that each stall costs seconds, not dlt's default minute."""

_MIXED = {
    "rate_limit": 0.05,
    "http_500": 0.03,
    "http_502": 0.03,
    "http_503": 0.04,
    "drop_fin": 0.03,
    "drop_rst": 0.03,
    "stall": 0.04,
}
"""Every kind at once, 25 % of all attempts."""

_STALL_ENV = {"RUNTIME__REQUEST_TIMEOUT": STALL_READ_TIMEOUT}

PROFILES: tuple[Profile, ...] = (
    Profile("rate_limits", {"rate_limit": 0.5}),
    Profile("server_errors", {"http_500": 0.15, "http_502": 0.15, "http_503": 0.15}),
    Profile("drops", {"drop_fin": 0.2, "drop_rst": 0.2}),
    Profile("stall", {"stall": 0.2}, stall_seconds=8.0, env=_STALL_ENV),
    Profile("mixed", _MIXED, seed=1, stall_seconds=8.0, env=_STALL_ENV),
    Profile("mixed", _MIXED, seed=2, stall_seconds=8.0, env=_STALL_ENV),
)

SYSTEM_VENDORS = {"crm": "salesforce", "psa": "harvest", "erp": "netsuite"}
_PROBE_ASSETS = {"crm": "accounts", "psa": "clients", "erp": "customer"}
"""One raw asset per source: every asset of a sync carries the sync's request figures."""

_UNFINISHED = ("STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class KillPoint:
    """Where a run is killed: after its step ``step`` started, and then after the first answer
    of ``vendor`` (mid-extraction), ``delay`` seconds, or the temporary file of the analysts'
    copy appearing (mid-publish).

    A kill is SIGKILL to the ``q2c run`` command's process group, as an operator's
    ``kill -9`` sends it; the run's worker, in a session of its own, must then die with its
    parent by itself (it notices within about half a second). The publish of the analysts'
    copy takes less than that, so it is cut as a container runtime or systemd cuts a unit:
    every process of the run killed at once (``whole_tree``).
    """

    name: str
    step: str
    vendor: str | None = None
    delay: float = 0.0
    temp_file: bool = False
    whole_tree: bool = False


KILL_POINTS: tuple[KillPoint, ...] = (
    KillPoint("extract_crm", "extract_crm", vendor="salesforce"),
    KillPoint("extract_erp", "extract_erp", vendor="netsuite"),
    KillPoint("extract_psa", "extract_psa", vendor="harvest"),
    KillPoint("dbt_build", "warehouse_models", delay=8.0),
    KillPoint("publish", "analytics__published", temp_file=True, whole_tree=True),
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Outcome:
    """One row of the table, and what failed in it."""

    scenario: str
    seconds: float = 0.0
    faults: tuple[int, int] | None = None
    """Injected, survived."""
    kills: tuple[int, int] | None = None
    """Killed at the point, recovered."""
    tables: tuple[int, int] | None = None
    """Equal to the clean run's, of all."""
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.failures.append(what)


class Q2cRun:
    """One ``q2c run`` in a process group of its own, its output read line by line into a log.

    The group is what an operator's ``kill -9`` of the command reaches; the run's worker
    (which q2c starts in a session of its own) must go with it by itself.
    """

    def __init__(
        self, env: dict[str, str], log_path: Path, registry: set[Q2cRun] | None = None
    ) -> None:
        self.registry = registry if registry is not None else set()
        self.registry.add(self)
        self.lines: list[str] = []
        self.started = time.monotonic()
        self._log: IO[str] = log_path.open("a", encoding="utf-8")
        self._log.write(f"--- chaos: q2c run in {env['Q2C_DATA_DIR']} ---\n")
        self._log.flush()
        self.process = subprocess.Popen(
            [str(Q2C), "run"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self._log.write(line + "\n")
            self._log.flush()

    def step_started(self, step: str) -> bool:
        return any(line.endswith(f"] {step} started") for line in self.lines)

    def step_ended(self, step: str) -> bool:
        return any(f"] {step} done" in line or f"] {step} FAILED" in line for line in self.lines)

    def last_line(self) -> str:
        meaningful = [line.strip() for line in self.lines if line.strip()]
        return meaningful[-1] if meaningful else "(no output)"

    def wait(self, timeout: float) -> int | None:
        """The exit status, or None when it ran out of time (then it is killed)."""
        try:
            return self.process.wait(timeout=max(0.0, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.kill(whole_tree=True)
            return None
        finally:
            self.close()

    def kill(self, whole_tree: bool = False) -> list[str]:
        """SIGKILL to the command's process group (with ``whole_tree``, to every process of
        the run at once); the processes of the run still alive 20 s later (then killed, so
        that the suite can go on), as ``name (pid)``."""
        try:
            descendants = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if whole_tree:
            for proc in descendants:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.kill()
        killed = "every process of the run" if whole_tree else "the process group of q2c run"
        self._log.write(f"--- chaos: SIGKILL to {killed} ---\n")
        self.process.wait()
        _, alive = psutil.wait_procs(descendants, timeout=20)
        survivors = []
        for proc in alive:
            try:
                survivors.append(f"{proc.name()} ({proc.pid})")
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self.close()
        return survivors

    def close(self) -> None:
        if self._log.closed:
            return
        self._reader.join(timeout=10)
        self._log.close()
        self.registry.discard(self)


class Suite:
    """The scenarios, against one served firm."""

    def __init__(
        self, sim: SimulatedSources, workdir: Path, run_timeout: float, logs: Path
    ) -> None:
        self.sim = sim
        self.workdir = workdir
        self.run_timeout = run_timeout
        self.logs = logs
        self.token = sim.env["SOURCES__CRM__ACCESS_TOKEN"]
        self.clean_fp: dict[str, TableHash] = {}
        self.clean_copy: dict[str, TableHash] = {}
        self.clean_dir: Path | None = None
        self.active: set[Q2cRun] = set()
        """The runs in progress, killed if the suite is interrupted."""

    # -- running q2c ----------------------------------------------------------------------

    def env(self, data_dir: Path, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of one ``q2c run``: this data folder (and Dagster's instance under
        it), the firm's clock, the sources at ``url``, and nothing inherited that would point
        the run elsewhere."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SOURCES__", "RUNTIME__", "Q2C_", "DAGSTER_"))
        }
        env.update(source_env(url, self.token, self.sim.as_of.isoformat()))
        env.update(
            {
                "DAGSTER_HOME": str(ROOT),
                "Q2C_DATA_DIR": str(data_dir),
                "Q2C_DAGSTER_DIR": str(data_dir / "dagster"),
            }
        )
        env.update(extra or {})
        return env

    def log_path(self, name: str) -> Path:
        return self.logs / f"{_slug(name)}.log"

    def start(
        self, name: str, data_dir: Path, url: str, extra: dict[str, str] | None = None
    ) -> Q2cRun:
        return Q2cRun(self.env(data_dir, url, extra), self.log_path(name), self.active)

    def run(
        self,
        outcome: Outcome,
        data_dir: Path,
        url: str,
        extra: dict[str, str] | None = None,
        what: str = "q2c run",
    ) -> Q2cRun | None:
        """A ``q2c run`` to its end: the run when it succeeded, else None and the failure (its
        status, or the timeout) recorded with the run's last line."""
        run = self.start(outcome.scenario, data_dir, url, extra)
        status = run.wait(self.run_timeout)
        if status == 0:
            return run
        log = self.log_path(outcome.scenario)
        if status is None:
            outcome.fail(
                f"{what} did not end within {self.run_timeout:.0f} s (killed); last line: "
                f"{run.last_line()} (log {log})"
            )
        else:
            outcome.fail(f"{what} exited with status {status}: {run.last_line()} (log {log})")
        return None

    def fresh(self, name: str) -> Path:
        folder = self.workdir / _slug(name)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.log_path(name).unlink(missing_ok=True)
        return folder

    # -- checks ---------------------------------------------------------------------------

    def compare(self, outcome: Outcome, data_dir: Path) -> None:
        """The warehouse against the clean run's, table by table."""
        try:
            found = fingerprint(data_dir / "warehouse.duckdb")
        except duckdb.Error as exc:
            outcome.tables = (0, len(self.clean_fp))
            outcome.fail(f"the warehouse does not open: {_first_line(exc)}")
            return
        outcome.tables = (equal_tables(self.clean_fp, found), len(self.clean_fp))
        differ = differences(self.clean_fp, found)
        if differ:
            outcome.fail(f"{len(differ)} tables differ from the clean run: {_some(differ)}")

    def check_copy(self, outcome: Outcome, data_dir: Path, content: bool = True) -> None:
        """The analysts' copy opens read-only, with every table of the clean one, and (with
        ``content``) each equal to the clean one's."""
        path = data_dir / "analytics.duckdb"
        if not path.exists():
            outcome.fail(f"no analysts' copy at {path.name}")
            return
        try:
            found = fingerprint(path, ANALYTICS_SCHEMAS)
        except duckdb.Error as exc:
            outcome.fail(f"analytics.duckdb does not open read-only: {_first_line(exc)}")
            return
        missing = sorted(self.clean_copy.keys() - found.keys())
        differ = differences(self.clean_copy, found) if content else missing
        if differ:
            outcome.fail(
                f"analytics.duckdb: {len(differ)} tables missing or differ: {_some(differ)}"
            )

    def check_figures(self, outcome: Outcome, data_dir: Path, log: FaultLog) -> None:
        """Each sync's asset metadata counts the requests and retries the proxy saw."""
        figures = run_figures(data_dir)
        for system, vendor in SYSTEM_VENDORS.items():
            requests, retried = figures.get(system, (None, None))
            if (requests, retried) != (log.requests[vendor], log.faults[vendor]):
                outcome.fail(
                    f"{system}: the asset metadata counts {requests} requests and {retried} "
                    f"retried; the proxy received {log.requests[vendor]} and faulted "
                    f"{log.faults[vendor]}"
                )

    # -- scenarios ------------------------------------------------------------------------

    def done(self, outcome: Outcome, started: float | None = None) -> Outcome:
        """The scenario's time, and a line saying how it went."""
        if started is not None:
            outcome.seconds = round(time.monotonic() - started, 1)
        state = "ok" if not outcome.failures else f"{len(outcome.failures)} failed"
        say(f"chaos: {outcome.scenario}: {outcome.seconds:.0f} s, {state}")
        return outcome

    def clean(self) -> Outcome:
        outcome = Outcome("clean")
        data_dir = self.fresh(outcome.scenario)
        started = time.monotonic()
        if self.run(outcome, data_dir, self.sim.server.url):
            self.clean_fp = fingerprint(data_dir / "warehouse.duckdb")
            self.clean_copy = fingerprint(data_dir / "analytics.duckdb", ANALYTICS_SCHEMAS)
            self.clean_dir = data_dir
            outcome.tables = (len(self.clean_fp), len(self.clean_fp))
        return self.done(outcome, started)

    def fault_profile(self, profile: Profile) -> Outcome:
        outcome = Outcome(profile.label)
        data_dir = self.fresh(outcome.scenario)
        started = time.monotonic()
        with ChaosProxy(self.sim.server.url, profile) as proxy:
            ok = self.run(outcome, data_dir, proxy.url, dict(profile.env))
        log = proxy.log
        outcome.faults = (log.total_injected, log.total_survived)
        if log.total_injected == 0:
            outcome.fail("the proxy injected no fault (the profile's rates are too low)")
        lost = {
            k: log.injected[k] - log.survived[k]
            for k in FAULT_KINDS
            if log.injected[k] > log.survived[k]
        }
        if lost:
            outcome.fail(
                "faults never followed by a full answer to the same request: "
                + ", ".join(f"{k} {n}" for k, n in lost.items())
            )
        if profile.rates.get("stall"):
            check_stalls(outcome, profile, log)
        if ok:
            self.compare(outcome, data_dir)
            self.check_copy(outcome, data_dir)
            self.check_figures(outcome, data_dir, log)
        return self.done(outcome, started)

    def kills(self) -> list[Outcome]:
        """Every kill point in turn in one data folder, each followed by a plain run: a kill
        lands on a warehouse and an analysts' copy that earlier runs built, as in service."""
        data_dir = self.fresh("kill")
        outcomes = []
        with ChaosProxy(self.sim.server.url, PASS_THROUGH) as proxy:
            for point in KILL_POINTS:
                outcomes.append(self.kill_at(point, data_dir, proxy))
        return outcomes

    def kill_at(self, point: KillPoint, data_dir: Path, proxy: ChaosProxy) -> Outcome:
        outcome = Outcome(f"kill -9 {point.name}")
        started = time.monotonic()
        copy_before = _copy_state(data_dir)
        run = self.start(outcome.scenario, data_dir, proxy.url)
        reached = self._wait_for(point, run, proxy, data_dir)
        if run.process.poll() is not None:
            run.close()
            outcome.fail(
                f"the run ended (status {run.process.returncode}) before the kill point: "
                f"{run.last_line()}"
            )
        else:
            missed = run.step_ended(point.step)
            survivors = run.kill(point.whole_tree)
            if not reached:
                outcome.fail(f"the kill point was not reached within {self.run_timeout:.0f} s")
            elif missed:
                outcome.fail(f"the kill came after {point.step} had ended (the point was missed)")
            if survivors:
                outcome.fail(
                    f"processes of the killed run still alive 20 s later: {', '.join(survivors)}"
                )
            # Every build of this firm has the clean content: a copy that changed was
            # rewritten, which only a publish the kill did not stop does.
            if copy_before is not None and not missed and _copy_state(data_dir) != copy_before:
                outcome.fail("the analysts' copy changed under the kill (file or content)")
        killed = unfinished_runs(data_dir)
        if not killed and reached:
            outcome.fail("no run of the killed command was left in Dagster (nothing to recover)")
        recovery = self.run(outcome, data_dir, proxy.url, what="the next q2c run")
        recovered = False
        if recovery is not None:
            said = "\n".join(recovery.lines)
            for run_id in killed:
                if f"recovered run {run_id[:8]}" not in said:
                    outcome.fail(f"the next run did not say it recovered run {run_id[:8]}")
            left = unfinished_runs(data_dir)
            if left:
                outcome.fail(
                    f"runs left unfinished in Dagster after the next run: {', '.join(r[:8] for r in left)}"
                )
            stale = temporary_files(data_dir)
            if stale:
                outcome.fail(f"temporary files of the killed run left: {', '.join(stale)}")
            failures = len(outcome.failures)
            self.compare(outcome, data_dir)
            self.check_copy(outcome, data_dir)
            recovered = len(outcome.failures) == failures and not left
        outcome.kills = (1 if reached else 0, 1 if recovered else 0)
        return self.done(outcome, started)

    def _wait_for(self, point: KillPoint, run: Q2cRun, proxy: ChaosProxy, data_dir: Path) -> bool:
        """Poll until the run is at ``point`` (True), ends, or runs out of time."""
        deadline = run.started + self.run_timeout
        step_at: float | None = None
        served_at = 0
        while time.monotonic() < deadline and run.process.poll() is None:
            if step_at is None:
                if run.step_started(point.step):
                    step_at = time.monotonic()
                    served_at = proxy.log.served[point.vendor] if point.vendor else 0
            elif point.vendor is not None:
                if proxy.log.served[point.vendor] > served_at:
                    return True
            elif point.temp_file:
                if any(name.startswith(".analytics.duckdb.") for name in temporary_files(data_dir)):
                    return True
            elif time.monotonic() - step_at >= point.delay:
                return True
            time.sleep(0.005)
        return False

    def malformed(self) -> Outcome:
        outcome = Outcome("malformed records")
        data_dir = self.fresh("malformed")
        started = time.monotonic()
        rewriter = RecordRewriter(seed=FIRM_SEED)
        with ChaosProxy(self.sim.server.url, PASS_THROUGH, rewriter=rewriter) as proxy:
            run = self.start(outcome.scenario, data_dir, proxy.url)
            status = run.wait(self.run_timeout)
        manifest = rewriter.manifest
        rewriter.write_manifest(self.logs / "malformed_manifest.json")
        placed = {entry.kind for entry in manifest}
        for corruption in rewriter.corruptions:
            if corruption.kind not in placed:
                outcome.fail(
                    f"{corruption.kind}: no {corruption.vendor} {corruption.object} record "
                    "could take it"
                )
        if status != 0:
            what = "did not end in time" if status is None else f"exited with status {status}"
            outcome.fail(
                f"the run {what}: {run.last_line()} (log {self.log_path(outcome.scenario)})"
            )
        warehouse = data_dir / "warehouse.duckdb"
        if not warehouse.exists() or self.clean_dir is None:
            outcome.faults = (len(manifest), 0)
            return self.done(outcome, started)
        handled = check_quarantine(outcome, warehouse, manifest)
        outcome.faults = (len(manifest), handled)
        outcome.tables = check_good_records(
            outcome, self.clean_dir / "warehouse.duckdb", warehouse, manifest
        )
        for system in sorted(
            {_system(entry.vendor) for entry in manifest if entry.kind not in EXPECTED_LOADED}
        ):
            if not any(f"raw/{system}/" in line and "quarantin" in line for line in run.lines):
                outcome.fail(
                    f"the run did not say on the terminal that {system} records were refused"
                )
        missing = sorted(self.clean_fp.keys() - fingerprint(warehouse).keys())
        if missing:
            outcome.fail(f"{len(missing)} tables of the clean run were not built: {_some(missing)}")
        if status == 0:  # its content differs: records were refused
            self.check_copy(outcome, data_dir, content=False)
        return self.done(outcome, started)

    def secrets_in_output(self) -> list[str]:
        """Files of the suite's output that hold the token."""
        return sorted(
            path.name
            for path in self.logs.iterdir()
            if path.is_file() and self.token.encode() in path.read_bytes()
        )


# -- facts from a data folder -----------------------------------------------------------


_DAGSTER = threading.Lock()
"""Dagster's instance reads its folder from the environment: one lane at a time sets it."""


@contextlib.contextmanager
def dagster_instance(data_dir: Path) -> Iterator[Any]:
    """The Dagster instance of one data folder, as ``q2c run`` opens it."""
    from dagster import DagsterInstance

    env = {"DAGSTER_HOME": str(ROOT), "Q2C_DAGSTER_DIR": str(data_dir / "dagster")}
    with _DAGSTER, patched_environ(env), DagsterInstance.get() as instance:
        yield instance


def unfinished_runs(data_dir: Path) -> list[str]:
    """Ids of the runs of this data folder's Dagster instance still STARTING, STARTED or
    CANCELING."""
    from dagster import DagsterRunStatus, RunsFilter

    if not (data_dir / "dagster").exists():
        return []
    with dagster_instance(data_dir) as instance:
        records = instance.get_run_records(
            filters=RunsFilter(statuses=[DagsterRunStatus[s] for s in _UNFINISHED])
        )
        return [r.dagster_run.run_id for r in records]


def run_figures(data_dir: Path) -> dict[str, tuple[int, int]]:
    """system -> (api_requests, retried_responses) of its latest sync, from the metadata of
    its raw assets."""
    from dagster import AssetKey

    figures = {}
    with dagster_instance(data_dir) as instance:
        for system, resource in _PROBE_ASSETS.items():
            event = instance.get_latest_materialization_event(AssetKey(["raw", system, resource]))
            if event is None or event.asset_materialization is None:
                continue
            metadata = event.asset_materialization.metadata
            figures[system] = (
                int(metadata["api_requests"].value),
                int(metadata["retried_responses"].value),
            )
    return figures


def temporary_files(data_dir: Path) -> list[str]:
    """The temporary files q2c wrote aside in a data folder (pipelines/lib/runs.py)."""
    return [path.name for path in runs.temporary_files((data_dir, data_dir / "reports"))]


def _copy_state(data_dir: Path) -> tuple[int, dict[str, TableHash]] | None:
    """The analysts' copy as a kill must leave it: its inode (the file, not a rewrite of it)
    and its content."""
    path = data_dir / "analytics.duckdb"
    if not path.exists():
        return None
    return path.stat().st_ino, fingerprint(path, ANALYTICS_SCHEMAS)


def check_stalls(outcome: Outcome, profile: Profile, log: FaultLog) -> None:
    """The stalls were ended by the client's read timeout, the one the profile set."""
    timeout = float(profile.env.get("RUNTIME__REQUEST_TIMEOUT", "60"))
    stalls = len(log.stalls_given_up) + log.stalls_waited
    if log.stalls_waited:
        outcome.fail(
            f"RUNTIME__REQUEST_TIMEOUT={timeout:g} did not take effect: the client waited out "
            f"{log.stalls_waited} of {stalls} stalls of {profile.stall_seconds:g} s"
        )
    late = [s for s in log.stalls_given_up if s > timeout + 2]
    if late:
        outcome.fail(
            f"stalls ended after {max(late):g} s, not at the read timeout of {timeout:g} s"
        )


# -- malformed records --------------------------------------------------------------------


def _system(vendor: str) -> str:
    return next(s for s, v in SYSTEM_VENDORS.items() if v == vendor)


def raw_table(entry: Rewritten) -> str:
    """The raw table q2c loads the vendor object into (its resource name)."""
    if entry.vendor == "salesforce":
        from pipelines.defs.ingest.crm.objects import OBJECTS

        return next(name for name, (sobject, _) in OBJECTS.items() if sobject == entry.object)
    return entry.object


def _parsed(payload: str) -> Any:
    """A record as JSON values, numbers as Decimal, to compare a payload with what was sent."""
    return json.loads(payload, parse_float=Decimal)


def check_quarantine(outcome: Outcome, warehouse: Path, manifest: list[Rewritten]) -> int:
    """Each bad record in ``raw_<system>.quarantine`` with a reason and the payload as sent;
    the record with a new field loaded, the field with it. Returns how many were handled so."""
    handled = 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for entry in manifest:
            system, table = _system(entry.vendor), raw_table(entry)
            if entry.kind in EXPECTED_LOADED:
                handled += _check_loaded(outcome, con, system, table, entry)
                continue
            rows = con.execute(
                f"select reason, payload from raw_{system}.quarantine where resource = ?",
                [table],
            ).fetchall()
            sent = [_parsed(dumps(record).decode()) for record in entry.records]
            found = [(reason, _parsed(payload)) for reason, payload in rows]
            missing = [r for r in sent if not any(p == r for _, p in found)]
            reasons = [reason for reason, p in found if p in sent]
            if missing:
                outcome.fail(
                    f"{entry.kind}: {len(missing)} of {len(sent)} payloads of {entry.vendor} "
                    f"{entry.object} {entry.id} not in raw_{system}.quarantine"
                )
            elif not all(reasons):
                outcome.fail(f"{entry.kind}: quarantined without a reason")
            else:
                handled += 1
    finally:
        con.close()
    return handled


def _check_loaded(
    outcome: Outcome, con: duckdb.DuckDBPyConnection, system: str, table: str, entry: Rewritten
) -> int:
    column = entry.field.lower()
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [f"raw_{system}", table],
        ).fetchall()
    }
    key = id_key(entry.vendor, entry.object).lower()
    if column not in columns:
        outcome.fail(f"{entry.kind}: raw_{system}.{table} has no column {column}")
        return 0
    value = con.execute(
        f'select "{column}" from raw_{system}."{table}" where cast("{key}" as varchar) = ?',
        [entry.id],
    ).fetchall()
    expected = entry.records[0]
    for part in entry.field.split("."):
        expected = expected[part]
    if value != [(expected,)]:
        outcome.fail(f"{entry.kind}: {entry.object} {entry.id} loaded as {value}, not {expected!r}")
        return 0
    return 1


def check_good_records(
    outcome: Outcome, clean: Path, warehouse: Path, manifest: list[Rewritten]
) -> tuple[int, int]:
    """Every raw table holds the clean run's rows less the bad records, no row more or
    changed (on the columns both have). Returns (tables as expected, raw tables)."""
    refused: dict[str, set[str]] = {}
    for entry in manifest:
        if entry.kind not in EXPECTED_LOADED:
            refused.setdefault(f"raw_{_system(entry.vendor)}.{raw_table(entry)}", set()).add(
                entry.id
            )
    keys = {
        f"raw_{_system(e.vendor)}.{raw_table(e)}": id_key(e.vendor, e.object).lower()
        for e in manifest
    }
    con = duckdb.connect()
    try:
        con.execute(f"attach '{clean}' as clean (read_only)")
        con.execute(f"attach '{warehouse}' as bad (read_only)")
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_catalog = 'clean' and table_schema like 'raw\\_%' escape '\\'
               and table_type = 'BASE TABLE' order by 1, 2"""
        ).fetchall()
        tables = [(s, t) for s, t in tables if t not in LOAD_TABLES and t != "quarantine"]
        equal = 0
        for schema, table in tables:
            name = f"{schema}.{table}"
            columns = _common_columns(con, schema, table)
            if not columns:
                outcome.fail(f"{name}: not loaded")
                continue
            listed = ", ".join(f'"{c}"' for c in columns)
            lost = con.execute(
                f"select * from (select {listed} from clean.{schema}.{table} except all "
                f"select {listed} from bad.{schema}.{table})"
            ).fetchall()
            extra = con.execute(
                f"select count(*) from (select {listed} from bad.{schema}.{table} except all "
                f"select {listed} from clean.{schema}.{table})"
            ).fetchone()[0]
            expected = refused.get(name, set())
            key = keys.get(name)
            lost_ids = {str(row[columns.index(key)]) for row in lost} if key in columns else set()
            if len(lost) != len(expected) or lost_ids != expected or extra:
                outcome.fail(
                    f"{name}: {len(lost)} clean rows missing or changed (expected "
                    f"{len(expected)}: the refused ones), {extra} rows not in the clean run"
                )
            else:
                equal += 1
        return equal, len(tables)
    finally:
        con.close()


def _common_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    def columns(catalog: str) -> list[str]:
        return [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_catalog = ? "
                "and table_schema = ? and table_name = ? order by ordinal_position",
                [catalog, schema, table],
            ).fetchall()
        ]

    excluded = excluded_columns(schema, table)
    theirs = set(columns("bad"))
    return [c for c in columns("clean") if c in theirs and c not in excluded]


# -- the table ----------------------------------------------------------------------------


def _pair(value: tuple[int, int] | None) -> str:
    return "-" if value is None else f"{value[0]}/{value[1]}"


def table(outcomes: list[Outcome]) -> str:
    header = f"{'scenario':<24} {'faults inj/surv':>15} {'kills/recovered':>15} {'tables equal':>13} {'seconds':>8}"
    lines = [header, "-" * len(header)]
    for o in outcomes:
        lines.append(
            f"{o.scenario:<24} {_pair(o.faults):>15} {_pair(o.kills):>15} "
            f"{_pair(o.tables):>13} {o.seconds:>8.1f}"
        )
    return "\n".join(lines)


def _slug(name: str) -> str:
    """A scenario's name as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _some(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f", ... ({len(items) - n} more)" if len(items) > n else "")


# -- command ------------------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[Suite], list[Outcome]]] = {
    **{
        p.label: (lambda suite, p=p: [suite.fault_profile(p)])  # type: ignore[misc]
        for p in PROFILES
    },
    "kills": lambda suite: suite.kills(),
    "malformed": lambda suite: [suite.malformed()],
}


def run_scenarios(suite: Suite, names: list[str], jobs: int) -> list[Outcome]:
    """The scenarios, in ``jobs`` lanes at once (at most two): the kill chain, which must run
    in order in its one data folder, beside everything else. Each lane's runs are processes
    of their own, so two lanes use both cores of a 2-core machine."""
    kills = [n for n in names if n == "kills"]
    others = [n for n in names if n != "kills"]
    lanes = [kills, others] if jobs > 1 and kills and others else [names]
    results: dict[str, list[Outcome]] = {}

    def lane(scenarios: list[str]) -> None:
        for name in scenarios:
            say(f"chaos: {name} started")
            try:
                results[name] = SCENARIOS[name](suite)
            except Exception as exc:  # a bug of the suite, reported as its row, not a traceback
                results[name] = [suite.done(Outcome(name, failures=[f"the suite failed: {exc!r}"]))]

    threads = [threading.Thread(target=lane, args=(names,), daemon=True) for names in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    return [outcome for name in names for outcome in results.get(name, [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.chaos", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(SCENARIOS),
        help="these scenarios only (after the clean run)",
    )
    parser.add_argument("--run-timeout", type=float, default=RUN_TIMEOUT_SECONDS)
    parser.add_argument(
        "--jobs", type=int, default=2, help="scenarios run at once (1 or 2; default 2)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folders (path printed)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.iterdir():
        if old.is_file():
            old.unlink()
    workdir = Path(tempfile.mkdtemp(prefix="q2c-chaos-"))
    outcomes: list[Outcome] = []
    try:
        params = FirmParams(seed=FIRM_SEED, scale="small", as_of=AS_OF, problem_rate=0.03)
        with simulated_sources(workdir / "firm.duckdb", params) as sim:
            suite = Suite(sim, workdir, args.run_timeout, LOGS)
            say(
                f"chaos: the firm (small, seed {FIRM_SEED}) served at {sim.server.url}; runs in {workdir}"
            )
            say("chaos: clean run")
            outcomes.append(suite.clean())
            if outcomes[0].failures:
                say(f"chaos: the clean run failed: {outcomes[0].failures[0]}")
            else:
                try:
                    outcomes += run_scenarios(suite, args.only or list(SCENARIOS), args.jobs)
                except KeyboardInterrupt:
                    for run in list(suite.active):
                        run.kill(whole_tree=True)
                    say("chaos: interrupted; the runs in progress were killed")
                    return 130
            leaked = suite.secrets_in_output()
            if leaked:
                outcomes.append(
                    Outcome("secrets", failures=[f"the token is in {', '.join(leaked)}"])
                )
    finally:
        if args.keep:
            say(f"chaos: data folders kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(outcomes))
    print(f"total {time.monotonic() - started:.0f} s; run output in {LOGS}")
    failures = [f"FAIL {o.scenario}: {what}" for o in outcomes for what in o.failures]
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
