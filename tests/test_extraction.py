"""Extraction against the simulated vendors: incremental, idempotent, nothing lost.

Every test runs the real dlt sources through Dagster against the simulator over loopback
and inspects the real DuckDB warehouse.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import patched_environ
from simulator.firm import FirmParams, generate
from simulator.harness import firm_as_of, simulated_sources
from tests.support import raw_snapshot, sync_sources

AS_OF_SEED = 11
RESOURCES = 4 + 7 + 11  # Salesforce objects, Harvest resources, NetSuite tables


@pytest.fixture(scope="module")
def firm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import AS_OF

    path = tmp_path_factory.mktemp("firm") / "firm.duckdb"
    con = duckdb.connect(str(path))
    generate(con, FirmParams(seed=AS_OF_SEED, scale="small", as_of=AS_OF))
    con.close()
    return path


@pytest.fixture
def firm(firm_file: Path, tmp_path: Path) -> Path:
    """A private copy of the generated firm, free to be advanced or faulted."""
    copy = tmp_path / "firm.duckdb"
    shutil.copy(firm_file, copy)
    return copy


def warehouse_of(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def clean_sync(firm: Path, data_dir: Path) -> dict:
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm):
        assert sync_sources().success
    return raw_snapshot(warehouse_of(data_dir))


def test_second_sync_adds_nothing_and_asks_once_per_resource(firm: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        assert sync_sources().success
        first = raw_snapshot(warehouse_of(data_dir))
        first_requests = sim.server.total_requests
        sim.server.reset_counters()
        assert sync_sources().success
        second = raw_snapshot(warehouse_of(data_dir))
        assert sim.server.total_requests == RESOURCES
    assert first_requests > RESOURCES
    assert second == first
    assert all(
        first[t] for t in ("raw_psa.time_entries", "raw_crm.accounts", "raw_erp.transaction")
    )


def test_after_advance_only_changes_are_fetched_and_merge_equals_a_full_refresh(
    firm: Path, tmp_path: Path
) -> None:
    from simulator.firm import advance

    data_dir = tmp_path / "data"
    env = {"Q2C_DATA_DIR": str(data_dir), "SOURCES__PSA__RECONCILE_EVERY_HOURS": "0"}
    with patched_environ(env), simulated_sources(firm) as sim:
        assert sync_sources().success
        full_requests = sim.server.total_requests
        summary = advance(sim.firm, days=1)
        sim.server.reset_counters()
        # as a deployment would, the next sync judges on the firm's new date
        with patched_environ({"Q2C_AS_OF_DATE": firm_as_of(sim.firm)}):
            assert sync_sources().success
        incremental_requests = dict(sim.server.counters)
    merged = raw_snapshot(warehouse_of(data_dir), live_only=True)

    fresh_dir = tmp_path / "fresh"
    with patched_environ({"Q2C_DATA_DIR": str(fresh_dir)}), simulated_sources(firm):
        assert sync_sources().success
    assert merged == raw_snapshot(warehouse_of(fresh_dir), live_only=True)
    # A day's changes fit in one page per resource, except the id reconcile (a full listing).
    reconcile = sum(v for k, v in incremental_requests.items() if k.startswith("psa:"))
    others = sum(incremental_requests.values()) - reconcile
    assert others == 4 + 11, incremental_requests
    assert sum(incremental_requests.values()) < full_requests + reconcile
    assert summary  # advance reported what changed


def test_deletes_are_flagged_after_the_next_sync(firm: Path, tmp_path: Path) -> None:
    from simulator.firm import advance

    data_dir = tmp_path / "data"
    env = {"Q2C_DATA_DIR": str(data_dir), "SOURCES__PSA__RECONCILE_EVERY_HOURS": "0"}
    with patched_environ(env), simulated_sources(firm) as sim:
        assert sync_sources().success
        for _ in range(10):
            advance(sim.firm, days=3)
            deleted_opps = sim.firm.execute(
                "select count(*) from sf_opportunity where IsDeleted"
            ).fetchone()[0]
            deleted_erp = sim.firm.execute("select count(*) from ns_deletedrecord").fetchone()[0]
            if deleted_opps and deleted_erp:
                break
        assert deleted_opps and deleted_erp, "advance deleted nothing in thirty days"
        held_projects = {r[0] for r in sim.firm.execute("select id from hv_projects").fetchall()}
        assert sync_sources().success
    con = duckdb.connect(str(warehouse_of(data_dir)), read_only=True)
    flagged_opps = con.execute(
        "select count(*) from raw_crm.opportunities where is_deleted and _deleted_at is not null"
    ).fetchone()[0]
    flagged_erp = con.execute(
        "select count(*) from raw_erp.transaction where _deleted_at is not null"
    ).fetchone()[0]
    gone_projects = con.execute(
        "select id from raw_psa.projects where _deleted_at is not null"
    ).fetchall()
    live_projects = {
        r[0]
        for r in con.execute("select id from raw_psa.projects where _deleted_at is null").fetchall()
    }
    con.close()
    assert flagged_opps == deleted_opps
    assert flagged_erp > 0
    assert live_projects == held_projects
    assert all(p not in held_projects for (p,) in gone_projects)


def test_transient_faults_end_in_the_same_warehouse(firm: Path, tmp_path: Path) -> None:
    clean = clean_sync(firm, tmp_path / "clean")
    data_dir = tmp_path / "faulty"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        sim.server.faults.rate_limit_every = 9
        sim.server.faults.server_error_every = 7
        sim.server.faults.drop_connection_every = 11
        sim.server.faults.duplicate_across_pages = True
        result = sync_sources()
        assert result.success
    retried = [
        e.materialization.metadata["retried_responses"].value
        for e in result.get_asset_materialization_events()
    ]
    assert max(retried) > 0
    assert raw_snapshot(warehouse_of(data_dir)) == clean


def test_every_malformed_record_is_quarantined_and_every_good_one_loaded(
    firm: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        sim.server.faults.malformed_every = 53
        result = sync_sources()
        injected = list(sim.server.faults.injected)
    assert result.success and injected
    con = duckdb.connect(str(warehouse_of(data_dir)), read_only=True)
    quarantined = Counter()
    for system in ("crm", "psa", "erp"):
        for resource, record_id, reason in con.execute(
            f"select resource, record_id, reason from raw_{system}.quarantine"
        ).fetchall():
            assert reason, (resource, record_id)
            quarantined[system] += 1
    con.close()
    by_vendor = Counter({"salesforce": 0, "harvest": 0, "netsuite": 0})
    by_vendor.update(i["vendor"] for i in injected)
    assert quarantined == Counter(
        {"crm": by_vendor["salesforce"], "psa": by_vendor["harvest"], "erp": by_vendor["netsuite"]}
    )
    checks = {
        (e.asset_key.path[1], e.passed)
        for e in result.get_asset_check_evaluations()
        if e.check_name == "no_quarantined_records" and not e.passed
    }
    assert checks  # the per-source check says so in Dagster


SYNC_SCRIPT = """
from tests.support import sync_sources
sync_sources()
"""


def _by_system(snapshot: dict) -> dict[str, dict]:
    systems: dict[str, dict] = {}
    for table, rows in snapshot.items():
        systems.setdefault(table.split(".")[0], {})[table] = rows
    return systems


def test_a_killed_sync_leaves_each_source_whole(firm: Path, tmp_path: Path) -> None:
    """Killed mid-sync, every source is either as it was or completely synced; never a mix."""
    from simulator.firm import advance

    # The story without the kill: sync, advance the firm three days, sync.
    twin = tmp_path / "twin.duckdb"
    shutil.copy(firm, twin)
    clean_dir = tmp_path / "clean"
    with patched_environ({"Q2C_DATA_DIR": str(clean_dir)}), simulated_sources(twin) as sim:
        assert sync_sources().success
        advance(sim.firm, days=3)
        assert sync_sources().success
    clean_after = _by_system(raw_snapshot(warehouse_of(clean_dir)))

    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        assert sync_sources().success
        before = _by_system(raw_snapshot(warehouse_of(data_dir)))
        advance(sim.firm, days=3)
        sim.server.faults.slow_ms = 100
        sim.server.reset_counters()
        child = subprocess.Popen(
            [sys.executable, "-c", SYNC_SCRIPT],
            env={**os.environ},
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while sim.server.total_requests < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        killed = _by_system(raw_snapshot(warehouse_of(data_dir)))
        sim.server.faults.slow_ms = 0
        assert sync_sources().success
        resumed = _by_system(raw_snapshot(warehouse_of(data_dir)))

    assert before != clean_after
    for system, tables in killed.items():
        assert tables in (before[system], clean_after[system]), system
    assert resumed == clean_after


def test_schema_drift_is_taken_in_and_reported(firm: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        sim.server.faults.schema_drift = True
        result = sync_sources()
    assert result.success
    reported = {
        e.asset_key.path[-1]: e.materialization.metadata["new_fields"].value
        for e in result.get_asset_materialization_events()
    }
    assert "drift_field" in reported["time_entries"]
    assert "Drift_Field__c" in reported["opportunities"]
    assert "custbody_drift_field" in reported["transaction"]
    con = duckdb.connect(str(warehouse_of(data_dir)), read_only=True)
    (filled,) = con.execute(
        "select count(*) from raw_psa.time_entries where drift_field is not null"
    ).fetchone()
    (total,) = con.execute("select count(*) from raw_psa.time_entries").fetchone()
    con.close()
    assert filled == total > 0


def test_tokens_never_reach_events_metadata_or_logs(
    firm: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        token = sim.env["SOURCES__CRM__ACCESS_TOKEN"]
        sim.server.faults.server_error_every = 5
        ok = sync_sources()
        # A source that refuses the token: the run fails, and says so without the token.
        with patched_environ({"SOURCES__ERP__ACCESS_TOKEN": "wrong-" + token}):
            failed = sync_sources()
    assert ok.success and not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    assert "401" in str(failure.to_string())
    for result in (ok, failed):
        for event in result.all_events:
            assert token not in str(event)
    assert token not in caplog.text


def _refusal(result: object) -> tuple[str, str, list[str]]:
    """The failed step, its one-line reason, and the kinds of its events (a retry shows)."""
    from pipelines.cli import failure_line

    (failure,) = result.get_step_failure_events()
    kinds = [e.event_type_value for e in result.all_events if e.step_key == failure.step_key]
    return failure.step_key, failure_line(failure), kinds


@pytest.mark.parametrize(
    ("setting", "value", "step", "expected"),
    [
        (
            "SOURCES__ERP__ACCESS_TOKEN",
            "wrong",
            "extract_erp",
            r"^NetSuite answered HTTP 401 to POST /erp/services/rest/query/v1/suiteql \(subsidiary\): "
            r".+ \(check SOURCES__ERP__ACCESS_TOKEN\)$",
        ),
        (
            "SOURCES__CRM__BASE_URL",
            "http://127.0.0.1:9/crm",
            "extract_crm",
            r"^Salesforce: nothing answers at http://127.0.0.1:9/crm \(connection refused; check "
            r"SOURCES__CRM__BASE_URL\)$",
        ),
        (
            "Q2C_TENANT_PROFILE",
            "custom",
            "extract_erp",
            r"^NetSuite answered HTTP 400 to POST /erp/services/rest/query/v1/suiteql \(customer\): "
            r".*custentity_no_such_field.* \(check the fields of customer in the tenant profile, "
            r"Q2C_TENANT_PROFILE\)$",
        ),
        (
            "SOURCES__PSA__ACCESS_TOKEN",
            "",
            "extract_psa",
            r"^SOURCES__PSA__ACCESS_TOKEN is not set$",
        ),
    ],
)
def test_a_wrong_setting_fails_the_sync_at_once_in_one_line_naming_it(
    firm: Path, tmp_path: Path, setting: str, value: str, step: str, expected: str
) -> None:
    """No layer retries what a source refused: the HTTP client, the step (no RetryRequested)
    and the run give up at once, with the vendor's own explanation and the setting to fix."""
    import re

    from pipelines.lib.tenant import DEFAULT_PROFILE

    if value == "custom":  # the firm's profile names a custom field its account does not have
        profile = tmp_path / "firm.yml"
        profile.write_text(
            DEFAULT_PROFILE.read_text().replace(
                "customer_country: custentity_billing_country",
                "customer_country: custentity_no_such_field",
            )
        )
        value = str(profile)
    with (
        patched_environ({"Q2C_DATA_DIR": str(tmp_path / "data")}),
        simulated_sources(firm),
        patched_environ({setting: value}),
    ):
        started = time.monotonic()
        result = sync_sources()
        elapsed = time.monotonic() - started
    assert not result.success
    failed_step, line, kinds = _refusal(result)
    assert failed_step == step
    assert re.match(expected, line), line
    assert "STEP_UP_FOR_RETRY" not in kinds
    assert elapsed < 30


def test_a_transient_failure_asks_for_a_retry_later_and_a_refusal_does_not(firm: Path) -> None:
    """What the extract step raises for a real error of each kind from the simulator."""
    from dagster import Failure, RetryRequested

    from pipelines.defs.ingest.assets import _extract_failure
    from pipelines.defs.ingest.psa.source import headers, list_endpoint
    from pipelines.lib.extract import ExtractStats, make_client, paginate

    def error_from(**faults: int) -> Exception:
        with simulated_sources(firm) as sim:
            for name, value in faults.items():
                setattr(sim.server.faults, name, value)
            token = sim.env["SOURCES__PSA__ACCESS_TOKEN"] if faults else "wrong"
            client = make_client(
                "psa",
                sim.env["SOURCES__PSA__BASE_URL"],
                headers(token, sim.env["SOURCES__PSA__ACCOUNT_ID"]),
                ExtractStats(),
                max_attempts=2,
            )
            with pytest.raises(Exception) as raised:
                list(paginate(client, list_endpoint("clients"), "clients"))
        return raised.value

    transient = _extract_failure(error_from(server_error_every=1), "psa", retry_number=1)
    assert isinstance(transient, RetryRequested)
    assert transient.max_retries == 3 and 45 <= transient.seconds_to_wait <= 75
    refused = _extract_failure(error_from(), "psa", retry_number=0)
    assert isinstance(refused, Failure) and not refused.allow_retries
    assert "Harvest answered HTTP 401 to GET /psa/v2/clients (clients)" in refused.description
    assert "check SOURCES__PSA__ACCESS_TOKEN" in refused.description


def test_a_refused_optional_resource_does_not_take_down_its_source(
    firm: Path, tmp_path: Path
) -> None:
    """Expenses switched off in the tenant and a report the token may not read: the rest of
    Harvest loads, and the check of each says which was refused and the vendor's answer."""
    data_dir = tmp_path / "data"
    with patched_environ({"Q2C_DATA_DIR": str(data_dir)}), simulated_sources(firm) as sim:
        sim.server.faults.refused_paths = {"/v2/expenses": 403, "/v2/reports/uninvoiced": 422}
        result = sync_sources()
    assert result.success
    checks = {
        e.asset_key.path[-1]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "resource_available"
    }
    assert set(checks) == {"expenses", "uninvoiced_report"}
    for resource, status in (("expenses", 403), ("uninvoiced_report", 422)):
        check = checks[resource]
        assert not check.passed and check.severity.value == "WARN"
        assert f"Harvest answered HTTP {status}" in check.metadata["refused"].value
    con = duckdb.connect(str(warehouse_of(data_dir)), read_only=True)
    try:
        (expenses,) = con.execute("select count(*) from raw_psa.expenses").fetchone()
        (entries,) = con.execute("select count(*) from raw_psa.time_entries").fetchone()
    finally:
        con.close()
    assert expenses == 0 and entries > 0
