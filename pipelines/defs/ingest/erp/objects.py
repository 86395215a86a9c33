"""NetSuite tables q2c reads, and the contract each query's rows must meet.

The SuiteQL text itself is configuration (``[sources.erp.queries]`` in .dlt/config.toml),
so a firm can map its own custom fields; a column the contract does not know is taken in
as text and reported as schema drift. NetSuite sends every value as text (numbers as
strings, booleans as T/F, dates as M/D/YYYY): raw keeps that text, staging casts it. Only
the modification cursor is typed, because the queries format it with TO_CHAR.
"""

from __future__ import annotations

from pipelines.lib.contracts import Contract, Field

PAGE_LIMIT = 1000
CURSOR_FORMAT = "%Y-%m-%d %H:%M:%S"


def _contract(
    name: str,
    fields: tuple[tuple[str, str], ...],
    primary_key: str | tuple[str, ...] = "id",
    cursor: str = "lastmodifieddate",
    **rules: tuple[str, ...],
) -> Contract:
    return Contract(
        name,
        tuple(Field(n, "timestamp" if n == cursor else k) for n, k in fields),
        primary_key=primary_key,
        text_wire=True,
        cursor=cursor,
        **rules,
    )


# resource (raw table) -> (cursor column, contract)
TABLES: dict[str, tuple[str, Contract]] = {
    "subsidiary": (
        "lastmodifieddate",
        _contract(
            "subsidiary",
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
    ),
    "currency": (
        "lastmodifieddate",
        _contract(
            "currency",
            (
                ("id", "int"),
                ("symbol", "str"),
                ("name", "str"),
                ("isbasecurrency", "bool"),
                ("lastmodifieddate", "timestamp"),
            ),
            currencies=("symbol",),
        ),
    ),
    "accountingperiod": (
        "lastmodifieddate",
        _contract(
            "accountingperiod",
            (
                ("id", "int"),
                ("periodname", "str"),
                ("startdate", "date"),
                ("enddate", "date"),
                ("closed", "bool"),
                ("closedondate", "str"),
                ("isquarter", "bool"),
                ("isyear", "bool"),
                ("isadjust", "bool"),
                ("lastmodifieddate", "timestamp"),
            ),
        ),
    ),
    "consolidatedexchangerate": (
        "lastmodifieddate",
        _contract(
            "consolidatedexchangerate",
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
    ),
    "customer": (
        "lastmodifieddate",
        _contract(
            "customer",
            (
                ("id", "int"),
                ("entityid", "str"),
                ("companyname", "str"),
                ("externalid", "str"),
                ("parent", "int"),
                ("subsidiary", "int"),
                ("currency", "int"),
                ("email", "str"),
                ("custentity_billing_country", "str"),
                ("isinactive", "bool"),
                ("datecreated", "str"),
                ("lastmodifieddate", "timestamp"),
            ),
        ),
    ),
    "salestaxitem": (
        "lastmodifieddate",
        _contract(
            "salestaxitem",
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
    ),
    "item": (
        "lastmodifieddate",
        _contract(
            "item",
            (
                ("id", "int"),
                ("itemid", "str"),
                ("displayname", "str"),
                ("itemtype", "str"),
                ("isinactive", "bool"),
                ("lastmodifieddate", "timestamp"),
            ),
        ),
    ),
    "transaction": (
        "lastmodifieddate",
        _contract(
            "transaction",
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
                ("custbody_sf_opportunity_id", "str"),
                ("createddate", "str"),
                ("lastmodifieddate", "timestamp"),
            ),
            required=("type", "currency"),
        ),
    ),
    "transactionline": (
        "linelastmodifieddate",
        _contract(
            "transactionline",
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
                ("custcol_psa_project_id", "str"),
                ("linelastmodifieddate", "timestamp"),
            ),
            primary_key="uniquekey",
            cursor="linelastmodifieddate",
            non_negative=("quantity",),
            required=("transaction",),
        ),
    ),
    "previoustransactionlinelink": (
        "lastmodifieddate",
        _contract(
            "previoustransactionlinelink",
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
    ),
    "deletedrecord": (
        "deleteddate",
        _contract(
            "deletedrecord",
            (("recordid", "int"), ("type", "str"), ("name", "str"), ("deleteddate", "timestamp")),
            primary_key=("recordid", "type"),
            cursor="deleteddate",
        ),
    ),
}
