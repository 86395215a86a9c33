"""The one asset-key scheme: ``raw/<system>/<resource>`` for dlt, ``<schema>/<model>`` for dbt.

dbt sources map onto the dlt keys, so the graph runs unbroken from API to mart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

OWNER = "team:finance-ops"

SYSTEM_NAMES = {"crm": "Salesforce", "psa": "Harvest", "erp": "NetSuite"}


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
