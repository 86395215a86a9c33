"""Point q2c's sources at the built-in simulator: the demo's, the UI's and the tests' one way.

The simulator serves the three vendor APIs on loopback from its own DuckDB file (never the
warehouse), with a fresh random token; the sources find it through the same environment
variables a real deployment sets.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.settings import patched_environ
from simulator.api.server import SimulatorServer
from simulator.firm import FirmParams, generate

HARVEST_ACCOUNT_ID = "100001"


@dataclass
class SimulatedSources:
    server: SimulatorServer
    firm: duckdb.DuckDBPyConnection
    db_path: Path
    env: dict[str, str]


def source_env(server: SimulatorServer, token: str, as_of: str) -> dict[str, str]:
    """The environment that points every q2c source at ``server``."""
    return {
        "SOURCES__CRM__BASE_URL": server.crm_base_url,
        "SOURCES__CRM__ACCESS_TOKEN": token,
        "SOURCES__PSA__BASE_URL": server.psa_base_url,
        "SOURCES__PSA__ACCOUNT_ID": HARVEST_ACCOUNT_ID,
        "SOURCES__PSA__ACCESS_TOKEN": token,
        "SOURCES__ERP__BASE_URL": server.erp_base_url,
        "SOURCES__ERP__ACCESS_TOKEN": token,
        "Q2C_AS_OF_DATE": as_of,
    }


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
        token = secrets.token_urlsafe(24)
        server = SimulatorServer(
            firm, token=token, harvest_account_id=HARVEST_ACCOUNT_ID, port=port
        ).start()
        env = source_env(server, token, as_of)
        try:
            with patched_environ(env):
                yield SimulatedSources(server, firm, db_path, env)
        finally:
            server.stop()
    finally:
        firm.close()
