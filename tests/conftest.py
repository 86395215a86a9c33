"""Shared fixtures: a simulated firm behind real vendor APIs, and a warehouse built from it.

Nothing is mocked: the simulator is the only stand-in, and only for the vendors' APIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from pipelines.settings import patched_environ
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from tests.support import BuiltWarehouse, dbt_folders, run_refresh_job

AS_OF = date(2026, 11, 25)


def _build(
    tmp_path_factory: pytest.TempPathFactory, name: str, params: FirmParams
) -> Iterator[BuiltWarehouse]:
    """The month-end close job run against a simulated firm into a temporary data folder."""
    data_dir = tmp_path_factory.mktemp(name)
    firm = data_dir / "simulator" / "firm.duckdb"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm, params) as sim:
        before = dbt_folders()
        result = run_refresh_job()
        yield BuiltWarehouse(data_dir, data_dir / "warehouse.duckdb", sim, result, before)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """The whole asset graph materialized against the simulator (planted problems: the
    gates fail and withhold the report) into a temporary warehouse."""
    params = FirmParams(seed=7, scale="small", as_of=AS_OF, problem_rate=0.03)
    yield from _build(tmp_path_factory, "q2c-data", params)


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """A firm with no planted problems (problem rate 0), built by the month-end close: every
    gate passes and the month-end report is written."""
    params = FirmParams(seed=5, scale="small", as_of=AS_OF, problem_rate=0.0)
    yield from _build(tmp_path_factory, "q2c-clean", params)


CHROMIUM = "/usr/bin/chromium"
# The machine's network is closed: Chromium must not try to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's ``chromium`` package) driven by Playwright.

    Where Chromium is missing the browser tests are skipped with the reason, except under CI
    (``Q2C_REQUIRE_BROWSER=1``, set by ``.ci/run`` after installing it), where they fail.
    """
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        message = f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("Q2C_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
