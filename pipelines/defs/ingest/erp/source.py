"""NetSuite SuiteQL over REST: one configured query per table, limit/offset pages.

Each query carries ``{since}``, replaced by the incremental cursor minus the lookback,
formatted as ``YYYY-MM-DD HH24:MI:SS`` for TO_TIMESTAMP. Deletes come from NetSuite's
``deletedrecord`` table and are applied as flags downstream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from pipelines.defs.ingest.erp.objects import CURSOR_FORMAT, PAGE_LIMIT, TABLES
from pipelines.lib.extract import (
    ExtractStats,
    arrow_pages,
    make_client,
    modified_since,
    paginate,
)


def _since(value: Any) -> str:
    return value.strftime(CURSOR_FORMAT) if hasattr(value, "strftime") else str(value)


@dlt.source(name="erp", max_table_nesting=0)
def erp(
    base_url: str = dlt.config.value,
    queries: dict[str, str] = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    lookback_seconds: int = 300,
    stats: Any = None,
) -> Any:
    """Subsidiaries, periods, rates, customers, tax codes, items, transactions and deletes."""
    run_stats: ExtractStats = stats if stats is not None else ExtractStats()
    missing = sorted(set(TABLES) - set(queries))
    if missing:
        raise ValueError(f"[sources.erp.queries] has no SuiteQL for: {', '.join(missing)}")

    def make_resource(name: str, cursor: str, contract: Any) -> Any:
        @dlt.resource(name=name, primary_key=contract.primary_key, write_disposition="merge")
        def read_table(
            modified: dlt.sources.incremental[Any] = modified_since(cursor, lookback_seconds),
        ) -> Iterator[Any]:
            if not access_token:
                raise ValueError("SOURCES__ERP__ACCESS_TOKEN is not set")
            headers = {"Authorization": f"Bearer {access_token}", "Prefer": "transient"}
            suiteql = queries[name].replace("{since}", _since(modified.start_value))
            pages = paginate(
                make_client(base_url, headers, run_stats),
                "/services/rest/query/v1/suiteql",
                OffsetPaginator(limit=PAGE_LIMIT, total_path=None, has_more_path="hasMore"),
                "items",
                method="POST",
                json={"q": suiteql},
            )
            yield from arrow_pages(pages, contract, "erp", run_stats)

        return read_table

    return [make_resource(name, cursor, contract) for name, (cursor, contract) in TABLES.items()]
