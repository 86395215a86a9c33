"""A check on the records whose parent the warehouse does not hold (a parent the quarantine
refused, or one never synced): a warning naming each link, the parents and why they are
missing. The orphans themselves are kept and counted; the build goes on."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from pipelines.defs.resources import RunSettings
from pipelines.lib.warehouse import WAREHOUSE_POOL, connect

ORPHANS = AssetKey(["reconciliation", "orphaned_records"])
CHECK_NAME = "no_orphaned_records"
SAMPLE_SIZE = 20


@asset_check(
    asset=ORPHANS,
    name=CHECK_NAME,
    description=(
        "No source record links to a record the warehouse does not hold (warns: the orphans "
        "are kept; fix the parent named in its source system)."
    ),
    pool=WAREHOUSE_POOL,
)
def orphaned_records_check(
    context: AssetCheckExecutionContext, settings: RunSettings
) -> AssetCheckResult:
    with connect(settings.for_step().warehouse_path) as con:
        rows = con.execute(
            """select source_system, child_model, source_record_id, link_column, parent_model,
                      parent_id, reason
               from reconciliation.orphaned_records
               order by source_system, child_model, link_column, parent_id, source_record_id"""
        ).fetchall()
    by_link: dict[str, int] = {}
    for system, child, _, column, parent, _, _ in rows:
        link = f"{system}: {child}.{column} -> {parent}"
        by_link[link] = by_link.get(link, 0) + 1
    sample = [
        f"{child} {record} -> {parent} {parent_id}: {reason}"
        for _, child, record, _, parent, parent_id, reason in rows[:SAMPLE_SIZE]
    ]
    return AssetCheckResult(
        passed=not rows,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "orphaned_records": len(rows),
            "by_link": MetadataValue.json(by_link),
            "sample": MetadataValue.json(sample),
            "table": "reconciliation.orphaned_records",
        },
    )
