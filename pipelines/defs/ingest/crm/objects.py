"""Salesforce objects q2c reads: API version, fields and their contracts."""

from __future__ import annotations

from dataclasses import replace

from pipelines.lib.contracts import Contract, Field
from pipelines.lib.tenant import Tenant

API_VERSION = "v62.0"
BATCH_SIZE = 2000
CURSOR = "SystemModstamp"

_AUDIT = (
    Field("CreatedDate", "timestamp"),
    Field("LastModifiedDate", "timestamp"),
    Field("SystemModstamp", "timestamp"),
    Field("IsDeleted", "bool"),
)

# resource (raw table) -> contract; the contract's fields are the SOQL SELECT list.
OBJECTS: dict[str, tuple[str, Contract]] = {
    "accounts": (
        "Account",
        Contract(
            "accounts",
            (
                Field("Id", "str"),
                Field("Name", "str"),
                Field("ParentId", "str"),
                Field("BillingCountry", "str"),
                Field("CurrencyIsoCode", "str"),
                *_AUDIT,
            ),
            primary_key="Id",
            cursor=CURSOR,
            currencies=("CurrencyIsoCode",),
        ),
    ),
    "opportunities": (
        "Opportunity",
        Contract(
            "opportunities",
            (
                Field("Id", "str"),
                Field("Name", "str"),
                Field("AccountId", "str"),
                Field("StageName", "str"),
                Field("IsClosed", "bool"),
                Field("IsWon", "bool"),
                Field("CloseDate", "date"),
                Field("Amount", "decimal"),
                Field("CurrencyIsoCode", "str"),
                Field("ContractId", "str"),
                *_AUDIT,
            ),
            primary_key="Id",
            cursor=CURSOR,
            currencies=("CurrencyIsoCode",),
            non_negative=("Amount",),
        ),
    ),
    "opportunity_line_items": (
        "OpportunityLineItem",
        Contract(
            "opportunity_line_items",
            (
                Field("Id", "str"),
                Field("OpportunityId", "str"),
                Field("ProductCode", "str"),
                Field("Name", "str"),
                Field("Quantity", "decimal"),
                Field("UnitPrice", "decimal"),
                Field("TotalPrice", "decimal"),
                Field("CurrencyIsoCode", "str"),
                *_AUDIT,
            ),
            primary_key="Id",
            cursor=CURSOR,
            currencies=("CurrencyIsoCode",),
            non_negative=("Quantity",),
        ),
    ),
    "contracts": (
        "Contract",
        Contract(
            "contracts",
            (
                Field("Id", "str"),
                Field("AccountId", "str"),
                Field("ContractNumber", "str"),
                Field("Status", "str"),
                Field("StartDate", "date"),
                Field("EndDate", "date"),
                Field("ActivatedDate", "timestamp"),
                *_AUDIT,
            ),
            primary_key="Id",
            cursor=CURSOR,
        ),
    ),
}


def crm_objects(tenant: Tenant) -> dict[str, tuple[str, Contract]]:
    """``OBJECTS`` as the firm's org has them: without ``CurrencyIsoCode`` when multi-currency is
    off (``crm.currency``), and without the standard fields the profile declares absent
    (``crm.absent_fields``), so the SOQL never names a field the org lacks."""
    absent = set(tenant.crm.absent_fields)
    if not tenant.crm.multi_currency:
        absent |= {f"{sobject}.CurrencyIsoCode" for sobject, _ in OBJECTS.values()}
    objects = {}
    for name, (sobject, contract) in OBJECTS.items():
        fields = tuple(f for f in contract.fields if f"{sobject}.{f.name}" not in absent)
        kept = {f.name for f in fields}
        objects[name] = (
            sobject,
            replace(
                contract,
                fields=fields,
                currencies=tuple(c for c in contract.currencies if c in kept),
            ),
        )
    return objects
