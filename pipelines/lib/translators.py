"""The one asset-key scheme: ``raw/<system>/<resource>`` for dlt, ``<schema>/<model>`` for dbt.

dbt sources map onto the dlt keys, so the graph runs unbroken from API to mart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from pipelines.settings import SYSTEM_NAMES

OWNER = "team:finance-ops"


def raw_asset_key(system: str, resource: str) -> AssetKey:
    return AssetKey(["raw", system, resource])


class RawTranslator(DagsterDltTranslator):
    """dlt resources become ``raw/<system>/<resource>`` in group ``<system>``."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        system = data.resource.source_name
        return spec.replace_attributes(
            key=raw_asset_key(system, data.resource.name),
            group_name=system,
            deps=[],
            owners=[OWNER],
            description=(
                f"{SYSTEM_NAMES.get(system, system)} `{data.resource.name}` as delivered by "
                f"its API, merged on its primary key into `raw_{system}.{data.resource.name}`."
            ),
        )


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """dbt models become ``<schema>/<model>`` grouped by layer; sources become raw keys."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # `<system>_loads` sources read dlt's load log of the same raw dataset.
            system = dbt_resource_props["source_name"].removesuffix("_loads")
            return raw_asset_key(system, dbt_resource_props["name"])
        schema = dbt_resource_props["config"].get("schema") or "main"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["config"].get("schema") or "main"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"][unique_id]
        return spec._replace(description=describe_dbt_test(test))


def describe_dbt_test(test: Mapping[str, Any]) -> str:
    """One sentence for a dbt data test, as the check's description in the UI.

    A test's own ``description`` wins; a singular test is described by its leading SQL
    comment; a generic test by what it asserts of which column.
    """
    if test.get("description"):
        return test["description"]
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name")
    severity = (test.get("config", {}).get("severity") or "error").lower()
    blocking = " (blocks downstream models)" if severity == "error" else " (warns)"
    match metadata.get("name"):
        case "not_null":
            text = f"dbt: `{column}` is never null"
        case "unique":
            text = f"dbt: `{column}` is unique"
        case "accepted_values":
            values = ", ".join(str(v) for v in kwargs.get("values", []))
            text = f"dbt: `{column}` is one of {values}"
        case "links_to":
            target = str(kwargs.get("to", "")).removeprefix("ref(").removesuffix(")").strip("'\"")
            text = (
                f"dbt: every `{column}` links to a `{kwargs.get('field')}` of `{target}` "
                "(a broken link is listed in reconciliation.orphaned_records)"
            )
        case "relationships":
            target = str(kwargs.get("to", "")).removeprefix("ref(").removesuffix(")").strip("'\"")
            text = f"dbt: every `{column}` exists as `{kwargs.get('field')}` in `{target}`"
        case "unique_combination":
            text = f"dbt: ({', '.join(kwargs.get('combination', []))}) is unique"
        case None:
            comment = _leading_comment(test.get("raw_code") or "")
            text = f"dbt: {comment}" if comment else f"dbt: {test['name'].replace('_', ' ')}"
        case name:
            text = f"dbt: {name.replace('_', ' ')}" + (f" on `{column}`" if column else "")
    return text + blocking


def _leading_comment(sql: str) -> str:
    lines = []
    for line in sql.strip().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)
