"""Point q2c's sources at the built-in simulator: the demo's, the UI's, the bench's and the
tests' one way.

The simulator serves the three vendor APIs on loopback from its own DuckDB file (never the
warehouse), with a fresh random token; the sources find it through the same environment
variables a real deployment sets (``source_env``). The firm's clock is the as-of date of
the runs against it (``SimulatedSources.as_of``), and is pinned in that environment too, for
the processes started beside it (the Dagster UI's code location), with the tenant profile
that declares the firm's conventions (``pipelines/tenants/<tenant>.yml``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.lib.tenant import DEFAULT_PROFILE, TENANT_PROFILE_VAR
from pipelines.settings import AS_OF_VAR, patched_environ
from simulator.api.server import SimulatorServer
from simulator.cli import TOKEN_ENV
from simulator.firm import FirmParams, generate
from simulator.firm.tenants import firm_conventions

HARVEST_ACCOUNT_ID = "100001"


@dataclass
class SimulatedSources:
    server: SimulatorServer
    firm: duckdb.DuckDBPyConnection
    db_path: Path
    env: dict[str, str]

    @property
    def as_of(self) -> date:
        """The firm's clock: the date runs against it judge on."""
        return date.fromisoformat(self.env[AS_OF_VAR])


def source_env(url: str, token: str, as_of: str | None = None) -> dict[str, str]:
    """The environment that points every q2c source at the simulator serving on ``url``
    (and pins the as-of date to the firm's clock, when given)."""
    env = {
        "SOURCES__CRM__BASE_URL": f"{url}/crm",
        "SOURCES__CRM__ACCESS_TOKEN": token,
        "SOURCES__PSA__BASE_URL": f"{url}/psa",
        "SOURCES__PSA__ACCOUNT_ID": HARVEST_ACCOUNT_ID,
        "SOURCES__PSA__ACCESS_TOKEN": token,
        "SOURCES__ERP__BASE_URL": f"{url}/erp",
        "SOURCES__ERP__ACCESS_TOKEN": token,
    }
    return {**env, AS_OF_VAR: as_of} if as_of else env


def tenant_profile(tenant: str) -> Path:
    """The q2c tenant profile that declares a simulated tenant's conventions."""
    return DEFAULT_PROFILE.with_name(f"{tenant}.yml")


def firm_as_of(firm: duckdb.DuckDBPyConnection) -> str | None:
    """The simulated clock's date (YYYY-MM-DD): the reconciliation judges on it, not on the
    machine's date, and it moves with ``advance``."""
    row = firm.execute("select value from sim_meta where key = 'clock'").fetchone()
    return None if row is None else str(row[0])[:10]


@contextmanager
def simulated_sources(
    db_path: Path, params: FirmParams | None = None, port: int = 0
) -> Iterator[SimulatedSources]:
    """Generate the firm (when ``params`` are given), serve it, and point the sources at it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if params is not None:
        for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
            stale.unlink(missing_ok=True)
    firm = duckdb.connect(str(db_path))
    try:
        if params is not None:
            generate(firm, params)
        as_of = firm_as_of(firm)
        if as_of is None:
            raise RuntimeError(f"{db_path} holds no simulated firm: generate one first")
        # a fresh one each time; Q2C_SIM_TOKEN names it (the secrets test greps for it)
        token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
        conventions = firm_conventions(firm)
        server = SimulatorServer(
            firm,
            token=token,
            harvest_account_id=HARVEST_ACCOUNT_ID,
            port=port,
            erp_field_names=conventions.erp_field_names,
            hidden_crm_fields=conventions.hidden_crm_fields,
        ).start()
        # the runs read the firm through its own profile (a caller that wants to read it
        # through another sets that inside, or passes it in the run's settings)
        env = {
            **source_env(server.url, token, as_of),
            TENANT_PROFILE_VAR: str(tenant_profile(conventions.name)),
        }
        try:
            with patched_environ(env):
                yield SimulatedSources(server, firm, db_path, env)
        finally:
            server.stop()
    finally:
        firm.close()
