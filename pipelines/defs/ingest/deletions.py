"""Deletes, carried as flags: every raw table gets ``_deleted_at`` when it is published.

Each vendor tells of deletes its own way: Salesforce keeps the row with ``IsDeleted``
(read through queryAll), NetSuite lists them in ``deletedrecord``, and Harvest says
nothing, so the PSA source finds them by reconciling ids (``deleted_records``). Rows are
never removed: the flag says when the source deleted them, and models leave them out.
"""

from __future__ import annotations

import duckdb

from pipelines.defs.ingest.psa.objects import RESOURCES as HARVEST_RESOURCES

DELETED_AT = "_deleted_at"

# NetSuite record types (deletedrecord.type) of the rows q2c loads, by raw table.
NETSUITE_TRANSACTION_TYPES = (
    "invoice",
    "salesorder",
    "creditmemo",
    "customerpayment",
    "transaction",
)


def flag_deletes(con: duckdb.DuckDBPyConnection, dataset: str, tables: list[str]) -> None:
    """Set ``_deleted_at`` on the published raw tables of one system (inside its transaction)."""
    present = set(tables)
    for table in tables:
        if not table.startswith("_dlt") and table != "quarantine":
            con.execute(
                f'alter table {dataset}."{table}" add column {DELETED_AT} timestamp with time zone'
            )
    system = dataset.removeprefix("raw_")
    if system == "crm":
        for table in present - {"quarantine"}:
            if not table.startswith("_dlt"):
                con.execute(
                    f'update {dataset}."{table}" set {DELETED_AT} = system_modstamp where is_deleted'
                )
    elif system == "psa" and "deleted_records" in present:
        for table in sorted(present & set(HARVEST_RESOURCES)):
            con.execute(
                f"""update {dataset}."{table}" as t set {DELETED_AT} = d.detected_at
                    from {dataset}.deleted_records as d
                    where d.resource = '{table}' and d.id = t.id"""
            )
    elif system == "erp" and "deletedrecord" in present:
        deleted = f"{dataset}.deletedrecord"
        types = ", ".join(f"'{t}'" for t in NETSUITE_TRANSACTION_TYPES)
        statements = {
            "transaction": f"""update {dataset}.transaction as t set {DELETED_AT} = d.deleteddate
                from {deleted} as d where lower(d.type) in ({types}) and d.recordid = t.id""",
            "transactionline": f"""update {dataset}.transactionline as l set {DELETED_AT} = d.deleteddate
                from {deleted} as d where lower(d.type) in ({types}) and d.recordid = l.transaction""",
            "previoustransactionlinelink": f"""update {dataset}.previoustransactionlinelink as k
                set {DELETED_AT} = d.deleteddate from {deleted} as d
                where lower(d.type) in ({types}) and d.recordid in (k.previousdoc, k.nextdoc)""",
            "customer": f"""update {dataset}.customer as c set {DELETED_AT} = d.deleteddate
                from {deleted} as d where lower(d.type) = 'customer' and d.recordid = c.id""",
        }
        for table, sql in statements.items():
            if table in present:
                con.execute(sql)
