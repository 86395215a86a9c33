"""A refused record has a small blast radius: a quarantined parent (an Account, an Opportunity,
a Contract) never stops the build. Its children are kept and listed as orphans with the
parent's id and the quarantine's reason, every mart and the analysts' copy are built, and the
run says how many records it refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.quality.orphans import CHECK_NAME as ORPHANS_CHECK
from pipelines.run_worker import refused_summary
from pipelines.settings import patched_environ
from simulator.firm import FirmParams
from simulator.harness import simulated_sources
from tests.conftest import AS_OF
from tests.support import failed_steps, run_refresh_job


@pytest.fixture(scope="module")
def refused_parents(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, object, list]]:
    """The month-end close of a firm whose Salesforce serves every 7th record malformed (each
    kind in turn: a missing id, a wrong type, an unknown currency): Accounts, Opportunities
    and Contracts among them, so their children point at parents the quarantine refused."""
    root = tmp_path_factory.mktemp("q2c-blast")
    params = FirmParams(seed=7, scale="small", as_of=AS_OF, problem_rate=0.03)
    with (
        patched_environ({"Q2C_DATA_DIR": str(root / "data")}),
        simulated_sources(root / "firm.duckdb", params) as sim,
    ):
        sim.server.faults.only_vendor = "salesforce"
        sim.server.faults.malformed_every = 7
        result = run_refresh_job()
        injected = list(sim.server.faults.injected)
    yield root / "data", result, injected


CHILD_KEYS = {
    "stg_salesforce__accounts": "account_id",
    "stg_salesforce__opportunities": "opportunity_id",
    "stg_salesforce__opportunity_line_items": "opportunity_line_item_id",
    "stg_salesforce__contracts": "contract_id",
}


def query(data_dir: Path, sql: str, database: str = "warehouse.duckdb") -> list[tuple]:
    con = duckdb.connect(str(data_dir / database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_build_completes_around_refused_parents(refused_parents) -> None:
    data_dir, result, injected = refused_parents
    objects = {i["object"] for i in injected}
    assert {"Account", "Opportunity", "Contract"} <= objects
    # Only the gates fail (the firm's planted problems); no model is skipped.
    assert failed_steps(result) == []
    skipped = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"]
    assert skipped == []
    expected = {
        "canonical.quote_to_cash",
        "canonical.time_entries",
        "reconciliation.exceptions",
        "reconciliation.month_end_variance",
        "reconciliation.orphaned_records",
    }
    tables = "select table_schema || '.' || table_name from information_schema.tables"
    assert expected <= {name for (name,) in query(data_dir, tables)}
    assert expected <= {name for (name,) in query(data_dir, tables, database="analytics.duckdb")}


def test_every_child_of_a_refused_parent_is_kept_and_listed_with_the_reason(
    refused_parents,
) -> None:
    data_dir, result, _ = refused_parents
    refused = {
        (resource, record_id): reason
        for resource, record_id, reason in query(
            data_dir, "select resource, record_id, reason from raw_crm.quarantine"
        )
    }
    orphans = query(
        data_dir,
        """select child_model, source_record_id, parent_model, parent_id, reason
           from reconciliation.orphaned_records""",
    )
    assert orphans
    parents_with_a_reason = 0
    for child_model, record_id, parent_model, parent_id, reason in orphans:
        resource = parent_model.removeprefix("stg_salesforce__")
        if (resource, parent_id) in refused:
            assert reason == f"refused by the quarantine: {refused[resource, parent_id]}"
            parents_with_a_reason += 1
        else:  # refused without a readable id (a missing key), or not synced
            assert reason.startswith(f"not in {parent_model}")
        # the child is in the warehouse, not dropped with its parent
        key = CHILD_KEYS[child_model]
        sql = f"select count(*) from staging.{child_model} where {key} = '{record_id}'"
        assert query(data_dir, sql) == [(1,)]
    assert parents_with_a_reason
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == ORPHANS_CHECK]
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["orphaned_records"].value == len(orphans)


def test_the_run_says_how_many_records_it_refused(refused_parents) -> None:
    data_dir, result, _ = refused_parents
    ((refused,),) = query(data_dir, "select count(*) from raw_crm.quarantine")
    line = refused_summary(result)
    assert refused > 0
    assert line.startswith(f"records refused by the quarantine: crm {refused} ")
    assert "link to a missing parent (reconciliation.orphaned_records)" in line


def test_the_report_lists_what_the_syncs_refused(refused_parents) -> None:
    data_dir, _, _ = refused_parents
    rows = query(
        data_dir,
        """select source_system, resource, what, record_count, example_reason
           from reports.report_refused_records order by row_order""",
    )
    refused = {(s, r): n for s, r, what, n, _ in rows if what == "refused by the last load"}
    expected = dict(
        (
            (("crm", resource), n)
            for resource, n in query(
                data_dir, "select resource, count(*) from raw_crm.quarantine group by resource"
            )
        )
    )
    assert refused == expected
    orphaned = sum(n for _, _, what, n, _ in rows if what == "linked to a missing parent")
    assert orphaned == query(data_dir, "select count(*) from reconciliation.orphaned_records")[0][0]
