"""One pipeline stage, run in this process so the bench can measure it alone.

    python -m benchmarks.stages extract:crm|extract:psa|extract:erp|transform|checks|report|publish
    python -m benchmarks.stages startup   # what every stage pays first: the imports

Configuration comes from the environment, exactly as for `q2c run`. The last line printed
is a JSON object of the stage's own figures (records, API requests).
"""

from __future__ import annotations

import json
import sys


def extract(system: str) -> dict:
    from dagster import DagsterInstance, materialize
    from dagster_dlt import DagsterDltResource

    from pipelines.defs.ingest.assets import ingest_assets

    assets = next(a for a in ingest_assets if next(iter(a.keys)).path[1] == system)
    with DagsterInstance.ephemeral() as instance:
        result = materialize([assets], resources={"dlt": DagsterDltResource()}, instance=instance)
    events = result.get_asset_materialization_events()
    meta = [e.materialization.metadata for e in events]
    return {
        "records": sum(m["records_extracted"].value for m in meta),
        "quarantined": sum(m["quarantined"].value for m in meta),
        "api_requests": meta[0]["api_requests"].value if meta else 0,
        "retried_responses": meta[0]["retried_responses"].value if meta else 0,
    }


def transform() -> dict:
    from dagster import DagsterInstance, materialize

    from pipelines.defs.transform.dbt import dbt_resource, warehouse_models

    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [warehouse_models], resources={"dbt": dbt_resource()}, instance=instance
        )
    return {"models": len(result.get_asset_materialization_events())}


def checks() -> dict:
    from pipelines.defs.quality.checks import CHECKPOINTS
    from pipelines.lib.gx_checks import run_checkpoint
    from pipelines.settings import Settings

    settings = Settings.from_env()
    results = {name: bool(run_checkpoint(settings, name).success) for name in CHECKPOINTS}
    return {"checkpoints": len(results), "passed": sum(results.values())}


def report() -> dict:
    from pipelines.defs.reports.month_end import last_closed_month, render_report
    from pipelines.settings import Settings

    settings = Settings.from_env()
    files = render_report(settings, last_closed_month(settings.as_of))
    return {
        "report_html_bytes": files.html.stat().st_size,
        "report_xlsx_bytes": files.xlsx.stat().st_size,
    }


def publish() -> dict:
    from pipelines.defs.publish.analytics import ANALYST_SCHEMAS
    from pipelines.lib.warehouse import publish_copy
    from pipelines.settings import Settings

    settings = Settings.from_env()
    rows = publish_copy(settings.warehouse_path, settings.analytics_path, ANALYST_SCHEMAS)
    return {"tables": len(rows), "rows": sum(rows.values())}


def startup() -> dict:
    """The least a stage process pays before it does any work: Dagster, dlt and the
    extraction assets imported (the other stages load more)."""
    from dagster import materialize  # noqa: F401

    from pipelines.defs.ingest.assets import ingest_assets  # noqa: F401

    return {}


def main(stage: str) -> None:
    if stage.startswith("extract:"):
        figures = extract(stage.split(":", 1)[1])
    else:
        stages = {
            "transform": transform,
            "checks": checks,
            "report": report,
            "publish": publish,
            "startup": startup,
        }
        figures = stages[stage]()
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1])
