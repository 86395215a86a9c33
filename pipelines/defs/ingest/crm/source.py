"""Salesforce REST: SOQL through queryAll, incremental on SystemModstamp.

queryAll (not query) so that soft-deleted rows arrive with ``IsDeleted = true`` and
merge over the row they delete: deletes are carried as flags, never lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from requests import Request, Response

from pipelines.defs.ingest.crm.objects import (
    API_VERSION,
    BATCH_SIZE,
    CURSOR,
    crm_objects,
)
from pipelines.lib.contracts import Contract
from pipelines.lib.extract import (
    Endpoint,
    ExtractStats,
    NextLinkPaginator,
    SourceError,
    arrow_pages,
    make_client,
    modified_since,
    paginate,
    setting_name,
)
from pipelines.lib.tenant import Tenant, load_tenant


class NextRecordsUrlPaginator(NextLinkPaginator):
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


def headers(access_token: str | None) -> dict[str, str]:
    if not access_token:
        raise SourceError("crm", f"{setting_name('crm', 'access_token')} is not set")
    return {
        "Authorization": f"Bearer {access_token}",
        "Sforce-Query-Options": f"batchSize={BATCH_SIZE}",
    }


def object_endpoint(base_url: str, sobject: str, contract: Contract, since: datetime) -> Endpoint:
    """Every record of ``sobject`` modified since ``since``, deleted ones included (queryAll)."""
    fields = ", ".join(f.name for f in contract.fields)
    soql = (
        f"SELECT {fields} FROM {sobject} "
        f"WHERE {CURSOR} >= {soql_datetime(since)} ORDER BY {CURSOR}, Id"
    )
    return Endpoint(
        f"/services/data/{API_VERSION}/queryAll",
        lambda: NextRecordsUrlPaginator(base_url),
        "records",
        params={"q": soql},
    )


@dlt.source(name="crm", max_table_nesting=0)
def crm(
    base_url: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    lookback_seconds: int = 300,
    stats: Any = None,
    tenant: Tenant | None = None,
) -> Any:
    """Accounts, opportunities, their line items and contracts from Salesforce, with the fields
    the org of ``tenant`` has (default: the simulated firm's)."""
    run_stats: ExtractStats = stats if stats is not None else ExtractStats()

    def make_resource(name: str, sobject: str, contract: Contract) -> Any:
        @dlt.resource(name=name, primary_key=contract.primary_key, write_disposition="merge")
        def read_object(
            modified: dlt.sources.incremental[Any] = modified_since(CURSOR, lookback_seconds),
        ) -> Iterator[Any]:
            client = make_client("crm", base_url, headers(access_token), run_stats)
            endpoint = object_endpoint(base_url, sobject, contract, modified.start_value)
            yield from arrow_pages(paginate(client, endpoint, name), contract, "crm", run_stats)

        return read_object

    objects = crm_objects(tenant or load_tenant())
    return [make_resource(name, sobject, contract) for name, (sobject, contract) in objects.items()]
