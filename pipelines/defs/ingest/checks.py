"""One check per source system: did the last load refuse any record?

Refused records sit in ``raw_<system>.quarantine`` with their reason and raw payload; the
check names the resources and reasons, so nothing is dropped without someone seeing it.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)

from pipelines.defs.ingest.assets import UNAVAILABLE, ingest_assets
from pipelines.defs.ingest.psa.objects import OPTIONAL as PSA_OPTIONAL
from pipelines.defs.resources import RunSettings
from pipelines.lib.extract import QUARANTINE_TABLE
from pipelines.lib.warehouse import WAREHOUSE_POOL, connect
from pipelines.settings import Settings, raw_dataset

CHECK_NAME = "no_quarantined_records"


def quarantined_in_last_load(settings: Settings, system: str) -> dict[str, list[tuple]]:
    """resource -> [(reason, count)] for the system's most recent successful load."""
    dataset = raw_dataset(system)
    with connect(settings.warehouse_path) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [dataset],
            ).fetchall()
        }
        if QUARANTINE_TABLE not in tables:
            return {}
        rows = con.execute(
            f"""
            select resource, reason, count(*)
            from {dataset}.{QUARANTINE_TABLE}
            where _dlt_load_id = (select max(load_id) from {dataset}._dlt_loads where status = 0)
            group by all order by 1, 2
            """
        ).fetchall()
    found: dict[str, list[tuple]] = {}
    for resource, reason, count in rows:
        found.setdefault(resource, []).append((reason, count))
    return found


AVAILABLE_CHECK = "resource_available"
OPTIONAL_RESOURCES = {"psa": PSA_OPTIONAL}
"""Resources the sync goes on without when the source refuses them (see their objects)."""


def build_quarantine_check(system: str, assets_def) -> AssetChecksDefinition:
    keys = sorted(assets_def.keys, key=lambda k: k.to_user_string())
    optional = [k for k in keys if k.path[-1] in OPTIONAL_RESOURCES.get(system, ())]

    @multi_asset_check(
        specs=[
            *(
                AssetCheckSpec(
                    CHECK_NAME,
                    asset=key,
                    description="No record of this resource was quarantined by the last load.",
                )
                for key in keys
            ),
            *(
                AssetCheckSpec(
                    AVAILABLE_CHECK,
                    asset=key,
                    description=(
                        "The source served this optional resource in the last sync (warns "
                        "with the source's answer when it refused it; the sync went on)."
                    ),
                )
                for key in optional
            ),
        ],
        name=f"{system}_quarantine",
        pool=WAREHOUSE_POOL,
    )
    def _check(
        context: AssetCheckExecutionContext, settings: RunSettings
    ) -> Iterator[AssetCheckResult]:
        found = quarantined_in_last_load(settings.for_step(), system)
        selected = {(c.asset_key, c.name) for c in context.selected_asset_check_keys}
        for key in keys:
            if (key, CHECK_NAME) not in selected:
                continue
            reasons = found.get(key.path[-1], [])
            count = sum(c for _, c in reasons)
            yield AssetCheckResult(
                asset_key=key,
                check_name=CHECK_NAME,
                passed=count == 0,
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "quarantined_records": count,
                    "reasons": MetadataValue.json({r: c for r, c in reasons}),
                    "quarantine_table": f"{raw_dataset(system)}.{QUARANTINE_TABLE}",
                },
            )
        for key in optional:
            if (key, AVAILABLE_CHECK) not in selected:
                continue
            event = context.instance.get_latest_materialization_event(key)
            metadata = event.asset_materialization.metadata if event else {}
            refusal = metadata[UNAVAILABLE].value if UNAVAILABLE in metadata else ""
            yield AssetCheckResult(
                asset_key=key,
                check_name=AVAILABLE_CHECK,
                passed=not refusal,
                severity=AssetCheckSeverity.WARN,
                metadata={"refused": refusal or "no"},
            )

    return _check


quarantine_checks = [build_quarantine_check(next(iter(a.keys)).path[1], a) for a in ingest_assets]
