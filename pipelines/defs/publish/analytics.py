"""Analyst-safe publishing: the finished schemas, copied into data/analytics.duckdb.

The warehouse file has one writer at a time and nobody may read it meanwhile; analysts
read the published copy instead, which is replaced whole after every successful build.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.defs.quality.checks import GATED_ASSETS
from pipelines.defs.resources import RunSettings
from pipelines.defs.transform.dbt import warehouse_models
from pipelines.lib.translators import OWNER
from pipelines.lib.warehouse import WAREHOUSE_POOL, publish_copy

ANALYST_SCHEMAS = ("canonical", "reconciliation")

# Published after the models are built, gates or not: analysts need the exceptions to fix
# them. So it does not depend on the gated marts directly (a blocking gate stops the assets
# downstream of the asset it guards); the rest of the dbt build orders it all the same.
PUBLISHED_FROM = sorted(
    (
        key
        for key in warehouse_models.keys
        if key.path[0] in ANALYST_SCHEMAS and key not in GATED_ASSETS
    ),
    key=lambda key: key.to_user_string(),
)


@asset(
    key=AssetKey(["analytics", "published"]),
    deps=PUBLISHED_FROM,
    group_name="publish",
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    description=(
        "The canonical and reconciliation schemas published to data/analytics.duckdb by "
        "writing a new file and renaming it into place: open it read-only, any time."
    ),
)
def analytics_published(context: AssetExecutionContext, settings: RunSettings) -> MaterializeResult:
    run = settings.for_step()
    rows = publish_copy(run.warehouse_path, run.analytics_path, ANALYST_SCHEMAS)
    context.log.info(f"published {len(rows)} tables to {run.analytics_path}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(run.analytics_path)),
            "tables": len(rows),
            "rows": MetadataValue.json(rows),
        }
    )
