"""Every setting the README documents takes effect, and a wrong one says so in one line.

The q2c settings (data folder, warehouse, analysts' copy, as-of date) are resolved in one
place; the sources' settings are dlt's (``SOURCES__<SYSTEM>__<KEY>``), each exercised here
against the simulator or in the test named beside it.
"""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import PROJECT_ROOT, Settings, patched_environ
from simulator.firm import FirmParams, generate
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.support import sync_sources

# Where each documented variable is shown to take effect (this module unless named).
ELSEWHERE = {
    "SOURCES__CRM__ACCESS_TOKEN": "tests/test_extraction.py (a wrong token)",
    "SOURCES__ERP__ACCESS_TOKEN": "tests/test_extraction.py (a wrong token)",
    "Q2C_TENANT_PROFILE": "tests/test_extraction.py (a custom field the account lacks)",
    "SOURCES__PSA__RECONCILE_EVERY_HOURS": "tests/test_extraction.py (deletes found)",
    "Q2C_DATA_DIR": "tests/test_settings.py (two runs, two folders)",
    "Q2C_AS_OF_DATE": "tests/test_settings.py (a date that is no date)",
    "Q2C_DAGSTER_DIR": "tests/test_operations.py (the instance's storage)",
    "Q2C_CLOSE_BUSINESS_DAY": "tests/test_operations.py (the close's business day)",
    "Q2C_GATE_<GATE>_<PARAMETER>": "tests/test_quality.py (a threshold override)",
}
TESTED_HERE = {
    "SOURCES__CRM__BASE_URL",
    "SOURCES__PSA__BASE_URL",
    "SOURCES__ERP__BASE_URL",
    "SOURCES__PSA__ACCOUNT_ID",
    "SOURCES__PSA__ACCESS_TOKEN",
    "SOURCES__<SYSTEM>__LOOKBACK_SECONDS",
    "SOURCES__PSA__REPORT_DAYS",
    "Q2C_WAREHOUSE_PATH",
    "Q2C_ANALYTICS_PATH",
}


def documented_variables() -> set[str]:
    """The variables of the README's Configuration table (and the gates' override)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme[readme.index("| variable | what | default |") :].split("\n\n")[0]
    found = set(re.findall(r"^\| `([A-Z0-9_<>]+)` \|", table, flags=re.MULTILINE))
    return found | set(re.findall(r"`(Q2C_GATE_<GATE>_<PARAMETER>)`", readme))


def test_every_documented_variable_is_exercised() -> None:
    assert documented_variables() == set(ELSEWHERE) | TESTED_HERE


def test_the_q2c_settings_are_read_from_their_variables(tmp_path: Path) -> None:
    environ = {
        "Q2C_DATA_DIR": str(tmp_path / "data"),
        "Q2C_WAREHOUSE_PATH": str(tmp_path / "elsewhere" / "wh.duckdb"),
        "Q2C_ANALYTICS_PATH": str(tmp_path / "share" / "for-analysts.duckdb"),
        "Q2C_AS_OF_DATE": "2026-10-31",
    }
    settings = Settings.from_env(environ)
    assert settings.data_dir == tmp_path / "data"
    assert settings.warehouse_path == tmp_path / "elsewhere" / "wh.duckdb"
    assert settings.analytics_path == tmp_path / "share" / "for-analysts.duckdb"
    assert settings.as_of == date(2026, 10, 31)
    defaults = Settings.from_env({"Q2C_DATA_DIR": str(tmp_path / "data")})
    assert defaults.warehouse_path == tmp_path / "data" / "warehouse.duckdb"
    assert defaults.analytics_path == tmp_path / "data" / "analytics.duckdb"
    assert defaults.as_of == date.today()


@pytest.fixture(scope="module")
def firm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config-firm") / "firm.duckdb"
    con = duckdb.connect(str(path))
    generate(con, FirmParams(seed=17, scale="small", as_of=AS_OF))
    con.close()
    return path


def _one_line_failure(result: object) -> str:
    from pipelines.cli import failure_line

    (failure,) = result.get_step_failure_events()
    return failure_line(failure)


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (
            "SOURCES__PSA__BASE_URL",
            "http://127.0.0.1:9/psa",
            "Harvest: nothing answers at http://127.0.0.1:9/psa (connection refused; check "
            "SOURCES__PSA__BASE_URL)",
        ),
        (
            "SOURCES__ERP__BASE_URL",
            "http://127.0.0.1:9/erp",
            "NetSuite: nothing answers at http://127.0.0.1:9/erp (connection refused; check "
            "SOURCES__ERP__BASE_URL)",
        ),
        (
            "SOURCES__PSA__ACCOUNT_ID",
            "999",
            "(check SOURCES__PSA__ACCESS_TOKEN and SOURCES__PSA__ACCOUNT_ID)",
        ),
        (
            "SOURCES__PSA__ACCESS_TOKEN",
            "wrong",
            "(check SOURCES__PSA__ACCESS_TOKEN and SOURCES__PSA__ACCOUNT_ID)",
        ),
        ("SOURCES__PSA__REPORT_DAYS", "400", "SOURCES__PSA__REPORT_DAYS=400: use 1 to 365"),
    ],
)
def test_a_source_setting_takes_effect_and_a_wrong_one_is_one_line(
    firm_file: Path, tmp_path: Path, setting: str, value: str, expected: str
) -> None:
    with (
        patched_environ({"Q2C_DATA_DIR": str(tmp_path / "data")}),
        simulated_sources(firm_file),
        patched_environ({setting: value}),
    ):
        started = time.monotonic()
        result = sync_sources()
    assert not result.success
    assert expected in _one_line_failure(result)
    assert time.monotonic() - started < 30


def test_the_lookback_is_how_far_a_sync_reads_behind_its_cursor(
    firm_file: Path, tmp_path: Path
) -> None:
    """A second sync re-reads what changed within the lookback of its cursor: with a lookback
    of years, everything again; with the default five minutes, only the latest changes."""

    def crm_records(result: object) -> int:
        return sum(
            e.materialization.metadata["records_extracted"].value
            for e in result.get_asset_materialization_events()
            if e.asset_key.path[:2] == ["raw", "crm"]
        )

    def syncs(lookback: str | None) -> tuple[int, int]:
        env = {"Q2C_DATA_DIR": str(tmp_path / f"data-{lookback}")}
        if lookback is not None:
            env["SOURCES__CRM__LOOKBACK_SECONDS"] = lookback
        with patched_environ(env), simulated_sources(firm_file):
            first, second = sync_sources(), sync_sources()
        assert first.success and second.success
        return crm_records(first), crm_records(second)

    everything, again = syncs(str(10 * 365 * 86400))
    assert again == everything > 0
    _, recent = syncs(None)
    assert recent < everything
