"""Salesforce REST: SOQL through queryAll, incremental on SystemModstamp.

queryAll (not query) so that soft-deleted rows arrive with ``IsDeleted = true`` and
merge over the row they delete: deletes are carried as flags, never lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from requests import Request, Response

from pipelines.defs.ingest.crm.objects import (
    API_VERSION,
    BATCH_SIZE,
    CURSOR,
    OBJECTS,
)
from pipelines.lib.extract import (
    ExtractStats,
    arrow_pages,
    make_client,
    modified_since,
    paginate,
)


class NextRecordsUrlPaginator(JSONLinkPaginator):
    """Follows ``nextRecordsUrl``, which Salesforce gives relative to the instance URL."""

    def __init__(self, instance_url: str) -> None:
        super().__init__(next_url_path="nextRecordsUrl")
        self.instance_url = instance_url.rstrip("/")

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if self._next_reference and self._next_reference.startswith("/"):
            self._next_reference = self.instance_url + self._next_reference

    def update_request(self, request: Request) -> None:
        request.url = self._next_reference
        request.params = None


def soql_datetime(value: Any) -> str:
    """A SOQL datetime literal (unquoted, UTC)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)


@dlt.source(name="crm", max_table_nesting=0)
def crm(
    base_url: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    lookback_seconds: int = 300,
    stats: Any = None,
) -> Any:
    """Accounts, opportunities, their line items and contracts from Salesforce."""
    run_stats: ExtractStats = stats if stats is not None else ExtractStats()

    def make_resource(name: str, sobject: str, contract: Any) -> Any:
        @dlt.resource(name=name, primary_key=contract.primary_key, write_disposition="merge")
        def read_object(
            modified: dlt.sources.incremental[Any] = modified_since(CURSOR, lookback_seconds),
        ) -> Iterator[Any]:
            if not access_token:
                raise ValueError("SOURCES__CRM__ACCESS_TOKEN is not set")
            headers = {
                "Authorization": f"Bearer {access_token}",
                "Sforce-Query-Options": f"batchSize={BATCH_SIZE}",
            }
            client = make_client(base_url, headers, run_stats)
            fields = ", ".join(f.name for f in contract.fields)
            soql = (
                f"SELECT {fields} FROM {sobject} "
                f"WHERE {CURSOR} >= {soql_datetime(modified.start_value)} "
                f"ORDER BY {CURSOR}, Id"
            )
            pages = paginate(
                client,
                f"/services/data/{API_VERSION}/queryAll",
                NextRecordsUrlPaginator(base_url),
                "records",
                params={"q": soql},
            )
            yield from arrow_pages(pages, contract, "crm", run_stats)

        return read_object

    return [make_resource(name, sobject, contract) for name, (sobject, contract) in OBJECTS.items()]
