"""Shared fixtures: a simulated firm behind real vendor APIs, and a warehouse built from it.

Nothing is mocked: the simulator is the only stand-in, and only for the vendors' APIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from pipelines.lib.simulated import patched_environ, simulated_sources
from simulator.firm import FirmParams
from tests.support import BuiltWarehouse, run_refresh_job

AS_OF = date(2026, 11, 25)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """The whole asset graph materialized against the simulator into a temporary warehouse."""
    data_dir = tmp_path_factory.mktemp("q2c-data")
    params = FirmParams(seed=7, scale="small", as_of=AS_OF, problem_rate=0.03)
    firm = data_dir / "simulator" / "firm.duckdb"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm, params) as sim:
        result = run_refresh_job()
        yield BuiltWarehouse(data_dir, data_dir / "warehouse.duckdb", sim, result)
