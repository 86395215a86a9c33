"""The whole graph, API to report, on the simulated firm: real rows, real checks."""

from __future__ import annotations

from dagster import AssetKey

from tests.support import BuiltWarehouse, dbt_folders, failed_steps


def test_every_asset_and_check_ran(built_warehouse: BuiltWarehouse) -> None:
    result = built_warehouse.result
    assert failed_steps(result) == []
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    for key in (
        AssetKey(["raw", "crm", "opportunities"]),
        AssetKey(["raw", "psa", "time_entries"]),
        AssetKey(["raw", "erp", "transactionline"]),
        AssetKey(["canonical", "time_entries"]),
        AssetKey(["reconciliation", "unbilled_approved_time"]),
        AssetKey(["analytics", "published"]),
    ):
        assert key in materialized, key


def test_a_build_leaves_no_folder_behind(built_warehouse: BuiltWarehouse) -> None:
    """dagster-dbt gives each build its own folder under target/ (about 12 MB): a build that
    succeeded removes its own, or a scheduled refresh piles up gigabytes a year."""
    assert dbt_folders() <= built_warehouse.dbt_folders_before


def test_raw_tables_hold_every_source_record(built_warehouse: BuiltWarehouse) -> None:
    pairs = {
        "raw_crm.opportunities": "sf_opportunity",
        "raw_crm.accounts": "sf_account",
        "raw_psa.time_entries": "hv_time_entries",
        "raw_psa.projects": "hv_projects",
        "raw_erp.transaction": "ns_transaction",
        "raw_erp.transactionline": "ns_transactionline",
    }
    for raw, firm in pairs.items():
        (loaded,) = built_warehouse.query(f"select count(*) from {raw}")[0]
        (served,) = built_warehouse.firm(f"select count(*) from {firm}")[0]
        assert loaded == served > 0, raw


def test_money_is_decimal_with_its_currency(built_warehouse: BuiltWarehouse) -> None:
    types = dict(
        built_warehouse.query(
            """select column_name, data_type from information_schema.columns
               where table_schema = 'canonical' and table_name = 'time_entries'"""
        )
    )
    assert types["billable_amount"].startswith("DECIMAL")
    assert types["billable_rate"].startswith("DECIMAL")
    (no_currency,) = built_warehouse.query(
        "select count(*) from canonical.time_entries where billable_amount is not null and currency is null"
    )[0]
    assert no_currency == 0


def test_unbilled_approved_time_is_exactly_the_planted_set(built_warehouse: BuiltWarehouse) -> None:
    found = {
        r[0]
        for r in built_warehouse.query(
            "select source_record_id from reconciliation.unbilled_approved_time"
        )
    }
    planted = {
        r[0]
        for r in built_warehouse.firm(
            """select source_record_id from sim_ground_truth
               where exception_type = 'unbilled_approved_time' and resolved_at is null"""
        )
    }
    assert planted, "the simulator planted no unbilled approved time at the default rate"
    assert found == planted


def test_analysts_get_a_published_copy(built_warehouse: BuiltWarehouse) -> None:
    import duckdb

    con = duckdb.connect(str(built_warehouse.data_dir / "analytics.duckdb"), read_only=True)
    try:
        (published,) = con.execute("select count(*) from canonical.time_entries").fetchone()
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    (built,) = built_warehouse.query("select count(*) from canonical.time_entries")[0]
    assert published == built > 0
    assert schemas == {"canonical", "reconciliation"}
