"""Harvest v2 resources q2c reads: endpoints, fields and their contracts."""

from __future__ import annotations

from pipelines.lib.contracts import Contract, Field

PER_PAGE = 2000
DELETIONS_TABLE = "deleted_records"
OPTIONAL = ("expenses", "uninvoiced_report")
"""Resources no rule needs: a tenant may have switched them off (expenses) or not let the
token's user read them (reports). A refusal loads nothing for them and the sync goes on."""
REPORT_DAYS = 365
"""Harvest's reports take a timeframe of at most a year."""
"""Ids Harvest no longer lists (it keeps no record of deletes): found by the id reconcile."""
CURSOR = "updated_at"

_AUDIT = (Field("created_at", "timestamp"), Field("updated_at", "timestamp"))


def _nested(name: str, *keys_kinds: tuple[str, str]) -> tuple[Field, ...]:
    """Harvest's nested references (``user: {id, name}``) as flat ``user_id``, ``user_name``."""
    return tuple(Field(f"{name}_{key}", kind, (name, key)) for key, kind in keys_kinds)


# resource (raw table) -> contract; the resource name is also Harvest's endpoint and envelope key.
RESOURCES: dict[str, Contract] = {
    "clients": Contract(
        "clients",
        (
            Field("id", "int"),
            Field("name", "str"),
            Field("is_active", "bool"),
            Field("address", "str"),
            Field("currency", "str"),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
        currencies=("currency",),
    ),
    "users": Contract(
        "users",
        (
            Field("id", "int"),
            Field("first_name", "str"),
            Field("last_name", "str"),
            Field("email", "str"),
            Field("timezone", "str"),
            Field("is_contractor", "bool"),
            Field("is_active", "bool"),
            Field("weekly_capacity", "int"),
            Field("default_hourly_rate", "decimal"),
            Field("cost_rate", "decimal"),
            Field("roles", "json"),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
    ),
    "tasks": Contract(
        "tasks",
        (
            Field("id", "int"),
            Field("name", "str"),
            Field("billable_by_default", "bool"),
            Field("default_hourly_rate", "decimal"),
            Field("is_default", "bool"),
            Field("is_active", "bool"),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
    ),
    "projects": Contract(
        "projects",
        (
            Field("id", "int"),
            *_nested("client", ("id", "int"), ("name", "str"), ("currency", "str")),
            Field("name", "str"),
            Field("code", "str"),
            Field("is_active", "bool"),
            Field("is_billable", "bool"),
            Field("is_fixed_fee", "bool"),
            Field("bill_by", "str"),
            Field("budget", "decimal"),
            Field("budget_by", "str"),
            Field("fee", "decimal"),
            Field("hourly_rate", "decimal"),
            Field("starts_on", "date"),
            Field("ends_on", "date"),
            Field("notes", "str"),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
        currencies=("client_currency",),
    ),
    "time_entries": Contract(
        "time_entries",
        (
            Field("id", "int"),
            Field("spent_date", "date"),
            Field("hours", "decimal"),
            Field("rounded_hours", "decimal"),
            Field("notes", "str"),
            Field("is_locked", "bool"),
            Field("locked_reason", "str"),
            Field("is_closed", "bool"),
            Field("is_billed", "bool"),
            Field("is_running", "bool"),
            Field("billable", "bool"),
            Field("budgeted", "bool"),
            Field("billable_rate", "decimal"),
            Field("cost_rate", "decimal"),
            *_nested("user", ("id", "int"), ("name", "str")),
            *_nested("client", ("id", "int"), ("name", "str"), ("currency", "str")),
            *_nested("project", ("id", "int"), ("name", "str"), ("code", "str")),
            *_nested("task", ("id", "int"), ("name", "str")),
            *_nested("invoice", ("id", "int"), ("number", "str")),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
        currencies=("client_currency",),
        non_negative=("hours",),
        required=("spent_date", "hours", "project_id"),
    ),
    "expenses": Contract(
        "expenses",
        (
            Field("id", "int"),
            Field("spent_date", "date"),
            Field("notes", "str"),
            Field("total_cost", "decimal"),
            Field("units", "decimal"),
            Field("is_closed", "bool"),
            Field("is_locked", "bool"),
            Field("is_billed", "bool"),
            Field("locked_reason", "str"),
            Field("billable", "bool"),
            *_nested("user", ("id", "int"), ("name", "str")),
            *_nested("client", ("id", "int"), ("name", "str"), ("currency", "str")),
            *_nested("project", ("id", "int"), ("name", "str"), ("code", "str")),
            *_nested("expense_category", ("id", "int"), ("name", "str")),
            *_nested("invoice", ("id", "int"), ("number", "str")),
            *_AUDIT,
        ),
        primary_key="id",
        cursor=CURSOR,
        currencies=("client_currency",),
        non_negative=("units",),
    ),
}

UNINVOICED_REPORT = Contract(
    "uninvoiced_report",
    (
        Field("project_id", "int"),
        Field("project_name", "str"),
        Field("client_id", "int"),
        Field("client_name", "str"),
        Field("currency", "str"),
        Field("total_hours", "decimal"),
        Field("uninvoiced_hours", "decimal"),
        Field("uninvoiced_expenses", "decimal"),
        Field("uninvoiced_amount", "decimal"),
    ),
    primary_key="project_id",
    currencies=("currency",),
)
