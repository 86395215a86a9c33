"""NetSuite tables q2c reads, the contract each one's rows must meet, and its SuiteQL.

The query of a table is built from its contract, so a column is named once: the SELECT list is
the contract's fields, the firm's custom fields are the ones its tenant profile names
(``erp_fields``), and the transaction types are the profile's. NetSuite sends every value as
text (numbers as strings, booleans as T/F): raw keeps that text, staging casts it. Dates and
datetimes are asked for in ISO form (``TO_CHAR``), whatever the account's date preference, so
a day-first account cannot swap days and months; only the modification cursor is typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.lib.contracts import Contract, Field
from pipelines.lib.tenant import Tenant

PAGE_LIMIT = 1000
CURSOR_FORMAT = "%Y-%m-%d %H:%M:%S"
_SUITEQL_DATETIME = "YYYY-MM-DD HH24:MI:SS"
_SUITEQL_DATE = "YYYY-MM-DD"


@dataclass(frozen=True)
class Custom:
    """A custom field, by what it holds: the profile's ``erp_fields`` names it."""

    role: str


@dataclass(frozen=True)
class ErpTable:
    contract: Contract
    query: str
    """SuiteQL with ``{since}``, replaced by the cursor (minus the lookback) at each sync."""

    @property
    def cursor(self) -> str:
        assert self.contract.cursor is not None
        return self.contract.cursor


@dataclass(frozen=True)
class _Spec:
    fields: tuple[tuple[str | Custom, str], ...]
    """(column, kind); kind ``date`` and ``datetime`` are read in ISO form, as text."""
    primary_key: str | tuple[str, ...]
    cursor: str
    rules: dict[str, tuple[str, ...]]


def _spec(
    fields: tuple[tuple[str | Custom, str], ...],
    primary_key: str | tuple[str, ...] = "id",
    cursor: str = "lastmodifieddate",
    **rules: tuple[str, ...],
) -> _Spec:
    return _Spec(fields, primary_key, cursor, rules)


# resource (raw table, the NetSuite table of the same name) -> its fields and rules
_TABLES = {
    "subsidiary": _spec(
        (
            ("id", "int"),
            ("name", "str"),
            ("country", "str"),
            ("currency", "int"),
            ("parent", "int"),
            ("iselimination", "bool"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "currency": _spec(
        (
            ("id", "int"),
            ("symbol", "str"),
            ("name", "str"),
            ("isbasecurrency", "bool"),
            ("lastmodifieddate", "timestamp"),
        ),
        currencies=("symbol",),
    ),
    "accountingperiod": _spec(
        (
            ("id", "int"),
            ("periodname", "str"),
            ("startdate", "date"),
            ("enddate", "date"),
            ("closed", "bool"),
            ("closedondate", "datetime"),
            ("isquarter", "bool"),
            ("isyear", "bool"),
            ("isadjust", "bool"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "consolidatedexchangerate": _spec(
        (
            ("id", "int"),
            ("postingperiod", "int"),
            ("fromsubsidiary", "int"),
            ("tosubsidiary", "int"),
            ("fromcurrency", "int"),
            ("tocurrency", "int"),
            ("averagerate", "rate"),
            ("currentrate", "rate"),
            ("historicalrate", "rate"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "customer": _spec(
        (
            ("id", "int"),
            ("entityid", "str"),
            ("companyname", "str"),
            ("externalid", "str"),
            ("parent", "int"),
            ("subsidiary", "int"),
            ("currency", "int"),
            ("email", "str"),
            (Custom("customer_country"), "str"),
            ("isinactive", "bool"),
            ("datecreated", "datetime"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "salestaxitem": _spec(
        (
            ("id", "int"),
            ("itemid", "str"),
            ("name", "str"),
            ("rate", "rate"),
            ("country", "str"),
            ("description", "str"),
            ("isinactive", "bool"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "item": _spec(
        (
            ("id", "int"),
            ("itemid", "str"),
            ("displayname", "str"),
            ("itemtype", "str"),
            ("isinactive", "bool"),
            ("lastmodifieddate", "timestamp"),
        ),
    ),
    "transaction": _spec(
        (
            ("id", "int"),
            ("tranid", "str"),
            ("type", "str"),
            ("trandate", "date"),
            ("duedate", "date"),
            ("postingperiod", "int"),
            ("entity", "int"),
            ("subsidiary", "int"),
            ("currency", "int"),
            ("exchangerate", "rate"),
            ("foreigntotal", "decimal"),
            ("status", "str"),
            ("memo", "str"),
            ("createdfrom", "int"),
            (Custom("transaction_deal"), "str"),
            ("createddate", "datetime"),
            ("lastmodifieddate", "timestamp"),
        ),
        required=("type", "currency"),
    ),
    "transactionline": _spec(
        (
            ("uniquekey", "int"),
            ("transaction", "int"),
            ("id", "int"),
            ("linesequencenumber", "int"),
            ("mainline", "bool"),
            ("subsidiary", "int"),
            ("item", "int"),
            ("memo", "str"),
            ("quantity", "decimal"),
            ("rate", "decimal"),
            ("netamount", "decimal"),
            ("taxcode", "int"),
            ("tax1amt", "decimal"),
            (Custom("line_project"), "str"),
            ("linelastmodifieddate", "timestamp"),
        ),
        primary_key="uniquekey",
        cursor="linelastmodifieddate",
        non_negative=("quantity",),
        required=("transaction",),
    ),
    "previoustransactionlinelink": _spec(
        (
            ("previousdoc", "int"),
            ("previousline", "int"),
            ("nextdoc", "int"),
            ("nextline", "int"),
            ("linktype", "str"),
            ("foreignamount", "decimal"),
            ("lastmodifieddate", "timestamp"),
        ),
        primary_key=("previousdoc", "nextdoc"),
    ),
    "deletedrecord": _spec(
        (("recordid", "int"), ("type", "str"), ("name", "str"), ("deleteddate", "timestamp")),
        primary_key=("recordid", "type"),
        cursor="deleteddate",
    ),
}


# read only from a firm with entities that carry sales tax on the invoice header (legacy tax)
_HEADER_TAX_FIELDS = {
    "transaction": [("taxitem", "int"), ("taxtotal", "decimal")],
    "transactionline": [("istaxable", "bool")],
}


def _column(name: str, kind: str) -> str:
    if kind == "timestamp" or kind == "datetime":
        return f"TO_CHAR({name}, '{_SUITEQL_DATETIME}') AS {name}"
    if kind == "date":
        return f"TO_CHAR({name}, '{_SUITEQL_DATE}') AS {name}"
    return name


def _table(name: str, spec: _Spec, tenant: Tenant) -> ErpTable:
    unused = {"customer_country"} if tenant.links.customer_country.via == "subsidiary" else set()
    fields = [
        (getattr(tenant.erp_fields, column.role) if isinstance(column, Custom) else column, kind)
        for column, kind in spec.fields
        if not (isinstance(column, Custom) and column.role in unused)
    ]
    link = tenant.links.billed_time_invoice.erp_field
    if name == "transaction" and link != "tranid":
        fields.insert(2, (link, "str"))  # the number the PSA gave the invoice, where it is kept
    if tenant.tax.header_level_countries:  # legacy tax on the header in some entities
        fields += _HEADER_TAX_FIELDS.get(name, [])
    contract = Contract(
        name,
        tuple(Field(n, "str" if k == "datetime" else k) for n, k in fields),
        primary_key=spec.primary_key,
        text_wire=True,
        cursor=spec.cursor,
        **spec.rules,
    )
    where = f"{spec.cursor} >= TO_TIMESTAMP('{{since}}', '{_SUITEQL_DATETIME}')"
    if name == "transaction":
        types = ", ".join(f"'{kind}'" for kind in tenant.erp_transaction_types)
        where += f" AND type IN ({types})"
    query = (
        f"SELECT {', '.join(_column(n, k) for n, k in fields)} FROM {name} "
        f"WHERE {where} ORDER BY {', '.join((spec.cursor, *contract.keys))}"
    )
    return ErpTable(contract, query)


def erp_tables(tenant: Tenant) -> dict[str, ErpTable]:
    """Every table q2c reads from NetSuite, as this firm's profile has it."""
    return {name: _table(name, spec, tenant) for name, spec in _TABLES.items()}
