"""Expectation suites as asset checks: the three gates fail on planted problems with the
right counts and stop the month-end report; every suite passes on a clean firm; results are
kept as history; Data Docs open with no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from dagster import AssetKey, DagsterEventType

from pipelines.defs.quality.checks import CHECKPOINTS, GATES, failed_on_a_gate
from pipelines.defs.quality.history import GateOutcome, failed_blocking_gates, gate_outcomes
from pipelines.lib.gx_checks import thresholds
from pipelines.settings import Settings, patched_environ
from tests.support import BuiltWarehouse, failed_steps

REPORT = AssetKey(["reports", "month_end_report"])
GATE_NAMES = {gate.checkpoint for gate in GATES}


def gx_evaluations(result) -> dict:
    return {
        e.check_name.removeprefix("gx_"): e
        for e in result.get_asset_check_evaluations()
        if e.check_name.startswith("gx_")
    }


def planted_open(built: BuiltWarehouse, exception_type: str) -> set[str]:
    return {
        r[0]
        for r in built.firm(
            f"""select source_record_id from sim_ground_truth
                where exception_type = '{exception_type}' and resolved_at is null"""
        )
    }


def test_every_suite_ran_as_a_check(built_warehouse: BuiltWarehouse) -> None:
    assert set(gx_evaluations(built_warehouse.result)) == set(CHECKPOINTS)


@pytest.mark.parametrize(
    ("gate", "exception_type", "planted_rows"),
    [
        ("unbilled_approved_time", "unbilled_approved_time", "true"),
        ("missing_tax_codes", "missing_tax_code", "true"),
        # the contract's reasons; a first build has no frozen figure that changed yet
        ("reporting_drift", "reporting_drift", "is_contract_reason"),
    ],
)
def test_gates_fail_with_the_planted_counts(
    built_warehouse: BuiltWarehouse, gate: str, exception_type: str, planted_rows: str
) -> None:
    check = gx_evaluations(built_warehouse.result)[gate]
    planted = planted_open(built_warehouse, exception_type)
    assert planted, f"the simulator planted no {exception_type} at the default rate"
    assert not check.passed
    assert check.severity.value == "ERROR"
    assert check.metadata["offending_source_records"].value == len(planted)
    sample = set(check.metadata["sample_source_record_ids"].value)
    assert sample <= planted and len(sample) == min(len(planted), 20)
    # The amounts are the planted records' in the mart: by currency, and their absolute
    # total in the reporting currency.
    ids = ", ".join(f"'{i}'" for i in planted)
    where = f"source_record_id in ({ids}) and {planted_rows}"
    by_currency = built_warehouse.query(
        f"select currency, sum(amount) from reconciliation.{gate} where {where} group by 1"
    )
    assert check.metadata["amount_by_currency"].value == {c: str(a) for c, a in by_currency}
    ((total,),) = built_warehouse.query(
        f"select sum(abs(amount_reporting)) from reconciliation.{gate} where {where}"
    )
    assert total > 0
    assert check.metadata["offending_amount_reporting"].value == f"USD {total:,.2f}"


def test_a_failing_blocking_gate_stops_the_report_and_says_why(
    built_warehouse: BuiltWarehouse,
) -> None:
    result = built_warehouse.result
    assert not result.success
    assert failed_steps(result) == [], "only the gates may fail on planted problems"
    gate_failures = [e for e in result.get_step_failure_events() if failed_on_a_gate(e)]
    message = " ".join(e.step_failure_data.error.message for e in gate_failures)
    for gate in GATE_NAMES:
        assert f"gx_{gate}" in message
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert REPORT not in materialized
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    assert not [step for step in started if "month_end_report" in step]
    (run_failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE]
    for gate in GATE_NAMES:
        assert f"gx_{gate}" in run_failure.message
    # The analysts' copy is still published: they need the exceptions to fix them.
    assert AssetKey(["analytics", "published"]) in materialized
    assert not list((built_warehouse.data_dir / "reports").glob("month_end_*.html"))


def test_a_clean_firm_passes_every_suite_and_gets_its_report(clean_build: BuiltWarehouse) -> None:
    result = clean_build.result
    assert result.success, failed_steps(result, but_gates=False)
    checks = gx_evaluations(result)
    assert set(checks) == set(CHECKPOINTS)
    failing = {
        name: e.metadata.get("failed_expectations") for name, e in checks.items() if not e.passed
    }
    assert failing == {}
    assert REPORT in {e.asset_key for e in result.get_asset_materialization_events()}
    assert len(list((clean_build.data_dir / "reports").glob("month_end_*.html"))) == 1
    with patched_environ({"Q2C_DATA_DIR": str(clean_build.data_dir)}):
        assert failed_blocking_gates(Settings.from_env()) == []


def test_validation_history_is_kept_in_the_warehouse(built_warehouse: BuiltWarehouse) -> None:
    rows = built_warehouse.query(
        """select checkpoint, passed, blocking, severity, offending_rows, run_id,
                  offending_amount_reporting, reporting_currency
           from quality.validation_results"""
    )
    by_checkpoint = {r[0]: r for r in rows}
    assert set(by_checkpoint) == set(CHECKPOINTS)
    run_id = built_warehouse.result.run_id
    assert {r[5] for r in rows} == {run_id}
    for gate in GATE_NAMES:
        _, passed, blocking, severity, offending, _, amount, currency = by_checkpoint[gate]
        assert (passed, blocking, severity, currency) == (False, True, "ERROR", "USD")
        assert offending > 0 and amount > 0
    with patched_environ({"Q2C_DATA_DIR": str(built_warehouse.data_dir)}):
        outcomes = failed_blocking_gates(Settings.from_env())
    assert {o.checkpoint for o in outcomes} == GATE_NAMES
    summary = next(o for o in outcomes if o.checkpoint == "unbilled_approved_time").summary()
    assert re.match(
        r"unbilled_approved_time: \d+ records?( \(\d+ rows?\))?, USD [\d,]+\.\d\d$", summary
    )


def test_a_gate_summary_counts_records_and_says_when_rows_differ() -> None:
    at = datetime(2026, 11, 25, tzinfo=UTC)
    drift = GateOutcome("reporting_drift", False, 6, 5, "USD", Decimal("321140.02"), at)
    one = GateOutcome("missing_tax_codes", False, 1, 1, "USD", Decimal("59292.95"), at)
    assert drift.summary() == "reporting_drift: 5 records (6 rows), USD 321,140.02"
    assert one.summary() == "missing_tax_codes: 1 record, USD 59,292.95"


def test_a_warehouse_never_validated_has_every_gate_failed(tmp_path) -> None:
    with patched_environ({"Q2C_DATA_DIR": str(tmp_path)}):
        outcomes = gate_outcomes(Settings.from_env())
    assert not (tmp_path / "warehouse.duckdb").exists(), "reading the gates created a warehouse"
    assert [o.passed for o in outcomes] == [False] * len(GATES)
    assert all("never validated" in o.summary() for o in outcomes)


def test_thresholds_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    assert thresholds("unbilled_approved_time") == {
        "max_rows": 0,
        "max_amount_reporting": Decimal("0.00"),
    }
    monkeypatch.setenv("Q2C_GATE_UNBILLED_APPROVED_TIME_MAX_ROWS", "25")
    assert thresholds("unbilled_approved_time")["max_rows"] == 25
    monkeypatch.setenv("Q2C_GATE_UNBILLED_APPROVED_TIME_MAX_ROWS", "lots")
    with pytest.raises(RuntimeError, match="is not a number: 'lots'"):
        thresholds("unbilled_approved_time")


def test_data_docs_open_with_no_network(built_warehouse: BuiltWarehouse, browser) -> None:
    """The Data Docs under data/gx open from file:// with every other request refused, and
    show each suite's latest validation."""
    index = built_warehouse.data_dir / "gx" / "data_docs" / "index.html"
    remote: list[str] = []
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file://")
            else (remote.append(route.request.url), route.abort())
        ),
    )
    page.goto(index.as_uri())
    links = page.locator("table a")
    texts = " ".join(links.all_inner_texts())
    for checkpoint in CHECKPOINTS:
        assert checkpoint in texts
    page.screenshot(path=str(built_warehouse.data_dir / "data_docs_index.png"), full_page=True)
    # Follow the gate's validation: GX's static page, named by the Dagster run, that failed
    # the row-count threshold.
    row = page.locator("tr", has_text="gate.unbilled_approved_time")
    page.goto((index.parent / row.locator("a").first.get_attribute("href")).as_uri())
    text = page.inner_text("body")
    page.close()
    assert "Status: Failed" in " ".join(text.split())
    assert built_warehouse.result.run_id in text
    assert "Offending records: at most max_rows" in text
    assert remote == []
