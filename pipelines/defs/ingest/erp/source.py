"""NetSuite SuiteQL over REST: one query per table (built from its contract and the firm's
tenant profile, ``objects.py``), limit/offset pages.

Each query carries ``{since}``, replaced by the incremental cursor minus the lookback,
formatted as ``YYYY-MM-DD HH24:MI:SS`` for TO_TIMESTAMP. Deletes come from NetSuite's
``deletedrecord`` table and are applied as flags downstream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue

from pipelines.defs.ingest.erp.objects import CURSOR_FORMAT, PAGE_LIMIT, ErpTable, erp_tables
from pipelines.lib.extract import (
    Endpoint,
    ExtractStats,
    HasMoreOffsetPaginator,
    SourceError,
    arrow_pages,
    make_client,
    modified_since,
    paginate,
    setting_name,
)
from pipelines.lib.tenant import Tenant, load_tenant


def _since(value: Any) -> str:
    return value.strftime(CURSOR_FORMAT) if hasattr(value, "strftime") else str(value)


def headers(access_token: str | None) -> dict[str, str]:
    if not access_token:
        raise SourceError("erp", f"{setting_name('erp', 'access_token')} is not set")
    return {"Authorization": f"Bearer {access_token}", "Prefer": "transient"}


def suiteql_endpoint(query: str, since: Any) -> Endpoint:
    """The rows of one SuiteQL query, ``{since}`` replaced by the cursor."""
    return Endpoint(
        "/services/rest/query/v1/suiteql",
        lambda: HasMoreOffsetPaginator(limit=PAGE_LIMIT, has_more_path="hasMore"),
        "items",
        method="POST",
        json={"q": query.replace("{since}", _since(since))},
    )


@dlt.source(name="erp", max_table_nesting=0)
def erp(
    base_url: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    lookback_seconds: int = 300,
    stats: Any = None,
    tenant: Tenant | None = None,
) -> Any:
    """Subsidiaries, periods, rates, customers, tax codes, items, transactions and deletes,
    with the custom fields and transaction types of ``tenant`` (default: the simulated firm)."""
    run_stats: ExtractStats = stats if stats is not None else ExtractStats()

    def make_resource(name: str, table: ErpTable) -> Any:
        contract = table.contract

        @dlt.resource(name=name, primary_key=contract.primary_key, write_disposition="merge")
        def read_table(
            modified: dlt.sources.incremental[Any] = modified_since(table.cursor, lookback_seconds),
        ) -> Iterator[Any]:
            client = make_client("erp", base_url, headers(access_token), run_stats)
            endpoint = suiteql_endpoint(table.query, modified.start_value)
            yield from arrow_pages(paginate(client, endpoint, name), contract, "erp", run_stats)

        return read_table

    tables = erp_tables(tenant or load_tenant())
    return [make_resource(name, table) for name, table in tables.items()]
