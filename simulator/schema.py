"""The simulated firm's storage contract.

The generator writes one DuckDB table per vendor object, named ``<vendor>_<object>``
with the vendor's own field names, and the API layer serves those tables in each
vendor's wire format. Keeping the vendor's names here means the API layer is a thin
formatter and the generator is the only place that knows the business.

Storage types are the natural ones (TIMESTAMP, DATE, DECIMAL, BOOLEAN); the API layer
renders them the way each vendor does on the wire (Salesforce ISO timestamps with
``+0000``, Harvest ISO ``Z`` timestamps, NetSuite strings with ``T``/``F`` and
``M/D/YYYY`` dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    name: str
    """Table name in the firm database: ``<vendor>_<object>``."""
    vendor_object: str
    """The object's name at the vendor: Salesforce sObject, Harvest resource, NetSuite table."""
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...]
    cursor: str | None = None
    """The vendor's modification cursor column, if the object has one."""
    nested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Harvest only: nested object name -> flat columns ``<name>_<field>`` that form it."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def ddl(self) -> str:
        cols = ",\n  ".join(f'"{c}" {t}' for c, t in self.columns)
        return f"create table if not exists {self.name} (\n  {cols}\n)"


MONEY = "decimal(18,2)"
RATE = "decimal(18,6)"
HOURS = "decimal(10,2)"

_SF_AUDIT = (
    ("CreatedDate", "timestamp"),
    ("LastModifiedDate", "timestamp"),
    ("SystemModstamp", "timestamp"),
    ("IsDeleted", "boolean"),
)

SALESFORCE = {
    t.vendor_object: t
    for t in (
        Table(
            "sf_account",
            "Account",
            (
                ("Id", "varchar"),
                ("Name", "varchar"),
                ("ParentId", "varchar"),
                ("BillingCountry", "varchar"),
                ("CurrencyIsoCode", "varchar"),
                *_SF_AUDIT,
            ),
            ("Id",),
            "SystemModstamp",
        ),
        Table(
            "sf_opportunity",
            "Opportunity",
            (
                ("Id", "varchar"),
                ("Name", "varchar"),
                ("AccountId", "varchar"),
                ("StageName", "varchar"),
                ("IsClosed", "boolean"),
                ("IsWon", "boolean"),
                ("CloseDate", "date"),
                ("Amount", MONEY),
                ("CurrencyIsoCode", "varchar"),
                ("ContractId", "varchar"),
                *_SF_AUDIT,
            ),
            ("Id",),
            "SystemModstamp",
        ),
        Table(
            "sf_opportunitylineitem",
            "OpportunityLineItem",
            (
                ("Id", "varchar"),
                ("OpportunityId", "varchar"),
                ("ProductCode", "varchar"),
                ("Name", "varchar"),
                ("Quantity", HOURS),
                ("UnitPrice", MONEY),
                ("TotalPrice", MONEY),
                ("CurrencyIsoCode", "varchar"),
                *_SF_AUDIT,
            ),
            ("Id",),
            "SystemModstamp",
        ),
        Table(
            "sf_contract",
            "Contract",
            (
                ("Id", "varchar"),
                ("AccountId", "varchar"),
                ("ContractNumber", "varchar"),
                ("Status", "varchar"),
                ("StartDate", "date"),
                ("EndDate", "date"),
                ("ActivatedDate", "timestamp"),
                *_SF_AUDIT,
            ),
            ("Id",),
            "SystemModstamp",
        ),
    )
}

_HV_AUDIT = (("created_at", "timestamp"), ("updated_at", "timestamp"))

HARVEST = {
    t.vendor_object: t
    for t in (
        Table(
            "hv_clients",
            "clients",
            (
                ("id", "bigint"),
                ("name", "varchar"),
                ("is_active", "boolean"),
                ("address", "varchar"),
                ("currency", "varchar"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
        ),
        Table(
            "hv_users",
            "users",
            (
                ("id", "bigint"),
                ("first_name", "varchar"),
                ("last_name", "varchar"),
                ("email", "varchar"),
                ("timezone", "varchar"),
                ("is_contractor", "boolean"),
                ("is_active", "boolean"),
                ("weekly_capacity", "integer"),
                ("default_hourly_rate", MONEY),
                ("cost_rate", MONEY),
                ("roles", "varchar[]"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
        ),
        Table(
            "hv_tasks",
            "tasks",
            (
                ("id", "bigint"),
                ("name", "varchar"),
                ("billable_by_default", "boolean"),
                ("default_hourly_rate", MONEY),
                ("is_default", "boolean"),
                ("is_active", "boolean"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
        ),
        Table(
            "hv_projects",
            "projects",
            (
                ("id", "bigint"),
                ("client_id", "bigint"),
                ("client_name", "varchar"),
                ("client_currency", "varchar"),
                ("name", "varchar"),
                ("code", "varchar"),
                ("is_active", "boolean"),
                ("is_billable", "boolean"),
                ("is_fixed_fee", "boolean"),
                ("bill_by", "varchar"),
                ("budget", "decimal(18,2)"),
                ("budget_by", "varchar"),
                ("fee", MONEY),
                ("hourly_rate", MONEY),
                ("starts_on", "date"),
                ("ends_on", "date"),
                ("notes", "varchar"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
            {"client": ("id", "name", "currency")},
        ),
        Table(
            "hv_time_entries",
            "time_entries",
            (
                ("id", "bigint"),
                ("spent_date", "date"),
                ("hours", HOURS),
                ("rounded_hours", HOURS),
                ("notes", "varchar"),
                ("is_locked", "boolean"),
                ("locked_reason", "varchar"),
                ("is_closed", "boolean"),
                ("is_billed", "boolean"),
                ("is_running", "boolean"),
                ("billable", "boolean"),
                ("budgeted", "boolean"),
                ("billable_rate", MONEY),
                ("cost_rate", MONEY),
                ("user_id", "bigint"),
                ("user_name", "varchar"),
                ("client_id", "bigint"),
                ("client_name", "varchar"),
                ("client_currency", "varchar"),
                ("project_id", "bigint"),
                ("project_name", "varchar"),
                ("project_code", "varchar"),
                ("task_id", "bigint"),
                ("task_name", "varchar"),
                ("invoice_id", "bigint"),
                ("invoice_number", "varchar"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
            {
                "user": ("id", "name"),
                "client": ("id", "name", "currency"),
                "project": ("id", "name", "code"),
                "task": ("id", "name"),
                "invoice": ("id", "number"),
            },
        ),
        Table(
            "hv_expenses",
            "expenses",
            (
                ("id", "bigint"),
                ("spent_date", "date"),
                ("notes", "varchar"),
                ("total_cost", MONEY),
                ("units", "decimal(10,2)"),
                ("is_closed", "boolean"),
                ("is_locked", "boolean"),
                ("is_billed", "boolean"),
                ("locked_reason", "varchar"),
                ("billable", "boolean"),
                ("user_id", "bigint"),
                ("user_name", "varchar"),
                ("client_id", "bigint"),
                ("client_name", "varchar"),
                ("client_currency", "varchar"),
                ("project_id", "bigint"),
                ("project_name", "varchar"),
                ("project_code", "varchar"),
                ("expense_category_id", "bigint"),
                ("expense_category_name", "varchar"),
                ("invoice_id", "bigint"),
                ("invoice_number", "varchar"),
                *_HV_AUDIT,
            ),
            ("id",),
            "updated_at",
            {
                "user": ("id", "name"),
                "client": ("id", "name", "currency"),
                "project": ("id", "name", "code"),
                "expense_category": ("id", "name"),
                "invoice": ("id", "number"),
            },
        ),
    )
}

NETSUITE = {
    t.vendor_object: t
    for t in (
        Table(
            "ns_subsidiary",
            "subsidiary",
            (
                ("id", "integer"),
                ("name", "varchar"),
                ("country", "varchar"),
                ("currency", "integer"),
                ("parent", "integer"),
                ("iselimination", "boolean"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_currency",
            "currency",
            (
                ("id", "integer"),
                ("symbol", "varchar"),
                ("name", "varchar"),
                ("isbasecurrency", "boolean"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_accountingperiod",
            "accountingperiod",
            (
                ("id", "integer"),
                ("periodname", "varchar"),
                ("startdate", "date"),
                ("enddate", "date"),
                ("closed", "boolean"),
                ("closedondate", "timestamp"),
                ("isquarter", "boolean"),
                ("isyear", "boolean"),
                ("isadjust", "boolean"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_consolidatedexchangerate",
            "consolidatedexchangerate",
            (
                ("id", "integer"),
                ("postingperiod", "integer"),
                ("fromsubsidiary", "integer"),
                ("tosubsidiary", "integer"),
                ("fromcurrency", "integer"),
                ("tocurrency", "integer"),
                ("averagerate", RATE),
                ("currentrate", RATE),
                ("historicalrate", RATE),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_customer",
            "customer",
            (
                ("id", "integer"),
                ("entityid", "varchar"),
                ("companyname", "varchar"),
                ("externalid", "varchar"),
                ("parent", "integer"),
                ("subsidiary", "integer"),
                ("currency", "integer"),
                ("email", "varchar"),
                ("custentity_billing_country", "varchar"),
                ("isinactive", "boolean"),
                ("datecreated", "timestamp"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_salestaxitem",
            "salestaxitem",
            (
                ("id", "integer"),
                ("itemid", "varchar"),
                ("name", "varchar"),
                ("rate", "decimal(6,3)"),
                ("country", "varchar"),
                ("description", "varchar"),
                ("isinactive", "boolean"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_item",
            "item",
            (
                ("id", "integer"),
                ("itemid", "varchar"),
                ("displayname", "varchar"),
                ("itemtype", "varchar"),
                ("isinactive", "boolean"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_transaction",
            "transaction",
            (
                ("id", "integer"),
                ("tranid", "varchar"),
                ("type", "varchar"),
                ("trandate", "date"),
                ("duedate", "date"),
                ("postingperiod", "integer"),
                ("entity", "integer"),
                ("subsidiary", "integer"),
                ("currency", "integer"),
                ("exchangerate", RATE),
                ("foreigntotal", MONEY),
                ("status", "varchar"),
                ("memo", "varchar"),
                ("otherrefnum", "varchar"),
                ("taxitem", "integer"),
                ("taxtotal", MONEY),
                ("createdfrom", "integer"),
                ("custbody_sf_opportunity_id", "varchar"),
                ("createddate", "timestamp"),
                ("lastmodifieddate", "timestamp"),
            ),
            ("id",),
            "lastmodifieddate",
        ),
        Table(
            "ns_transactionline",
            "transactionline",
            (
                ("uniquekey", "bigint"),
                ("transaction", "integer"),
                ("id", "integer"),
                ("linesequencenumber", "integer"),
                ("mainline", "boolean"),
                ("subsidiary", "integer"),
                ("item", "integer"),
                ("memo", "varchar"),
                ("quantity", HOURS),
                ("rate", MONEY),
                ("netamount", MONEY),
                ("taxcode", "integer"),
                ("tax1amt", MONEY),
                ("istaxable", "boolean"),
                ("custcol_psa_project_id", "varchar"),
                ("linelastmodifieddate", "timestamp"),
            ),
            ("uniquekey",),
            "linelastmodifieddate",
        ),
        Table(
            "ns_previoustransactionlinelink",
            "previoustransactionlinelink",
            (
                ("previousdoc", "integer"),
                ("previousline", "integer"),
                ("nextdoc", "integer"),
                ("nextline", "integer"),
                ("linktype", "varchar"),
                ("foreignamount", MONEY),
                ("lastmodifieddate", "timestamp"),
            ),
            ("previousdoc", "nextdoc"),
            "lastmodifieddate",
        ),
        Table(
            "ns_deletedrecord",
            "deletedrecord",
            (
                ("recordid", "integer"),
                ("type", "varchar"),
                ("name", "varchar"),
                ("deleteddate", "timestamp"),
            ),
            ("recordid", "type"),
            "deleteddate",
        ),
    )
}

VENDORS: dict[str, dict[str, Table]] = {
    "salesforce": SALESFORCE,
    "harvest": HARVEST,
    "netsuite": NETSUITE,
}

ALL_TABLES: tuple[Table, ...] = tuple(t for v in VENDORS.values() for t in v.values())

META_TABLES = {
    # The firm's own bookkeeping, never served: parameters, clock and ground truth.
    "sim_meta": "create table if not exists sim_meta (key varchar primary key, value varchar)",
    "sim_ground_truth": (
        "create table if not exists sim_ground_truth ("
        "exception_type varchar, source_system varchar, source_record_id varchar, "
        "planted_at timestamp, resolved_at timestamp, note varchar)"
    ),
}


def create_all(con) -> None:
    """Create every firm table (idempotent) on a DuckDB connection."""
    for table in ALL_TABLES:
        con.execute(table.ddl())
    for ddl in META_TABLES.values():
        con.execute(ddl)
