"""The tenant profile: how one firm's three systems are linked, and the words each uses.

A profile is one YAML file (``pipelines/tenants/simulator.yml`` is the simulated firm's, the
default and the example). It is read and checked when the settings are resolved, so a wrong
value stops a run before it starts, with one line naming the key. The extraction builds its
queries from it and dbt receives it as vars (``dbt_vars``): a custom field or a convention is
named in the profile only, and the models branch on it where analysts can read the rule.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

TENANT_PROFILE_VAR = "Q2C_TENANT_PROFILE"
DEFAULT_PROFILE = Path(__file__).resolve().parent.parent / "tenants" / "simulator.yml"

SALESFORCE_STAGES: dict[str, str] = {
    "Prospecting": "open",
    "Qualification": "open",
    "Needs Analysis": "open",
    "Value Proposition": "open",
    "Id. Decision Makers": "open",
    "Perception Analysis": "open",
    "Proposal/Price Quote": "open",
    "Negotiation/Review": "open",
    "Closed Won": "won",
    "Closed Lost": "lost",
}
"""Salesforce's default opportunity stages (a new org's picklist), built in."""

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TenantError(ValueError):
    """The tenant profile cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectDealLink(_Strict):
    via: Literal["project_code", "project_name"] = "project_code"
    pattern: str = ""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        # checked by the engine the models run it on (DuckDB's RE2: no lookarounds), not by
        # Python's re, which takes patterns the build would then refuse
        if value:
            try:
                duckdb.execute("select regexp_extract('', ?)", [value])
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
                raise ValueError(f"not a regular expression DuckDB takes ({reason})") from None
        return value

    @model_validator(mode="after")
    def _pattern_when_by_name(self) -> ProjectDealLink:
        if self.via == "project_name" and not self.pattern:
            raise ValueError("via project_name needs a pattern (the Opportunity Id in the name)")
        return self

    @property
    def group(self) -> int:
        """The pattern's group that holds the id: the first, or the whole match (0)."""
        return 1 if self.pattern and re.compile(self.pattern).groups else 0


class BilledTimeInvoiceLink(_Strict):
    erp_field: Literal["tranid", "otherrefnum", "externalid"] = "tranid"


class InvoiceDealLink(_Strict):
    via: Literal["header_field", "line_project"] = "header_field"


class CustomerCountryLink(_Strict):
    via: Literal["custom_field", "subsidiary"] = "custom_field"


class ConsultantEntityLink(_Strict):
    via: Literal["home_office", "project_customer"] = "home_office"


class Links(_Strict):
    project_deal: ProjectDealLink = ProjectDealLink()
    billed_time_invoice: BilledTimeInvoiceLink = BilledTimeInvoiceLink()
    invoice_deal: InvoiceDealLink = InvoiceDealLink()
    customer_country: CustomerCountryLink = CustomerCountryLink()
    consultant_entity: ConsultantEntityLink = ConsultantEntityLink()


class ErpFields(_Strict):
    transaction_deal: str = "custbody_sf_opportunity_id"
    line_project: str = "custcol_psa_project_id"
    customer_country: str = "custentity_billing_country"

    @field_validator("*")
    @classmethod
    def _is_field_name(cls, value: str) -> str:
        if not _FIELD_NAME.match(value):
            raise ValueError(f"{value!r} is not a NetSuite field id (letters, digits, _)")
        return value.lower()


OPTIONAL_CRM_FIELDS = ("Opportunity.ContractId", "Account.ParentId")
"""Salesforce standard fields an org may switch off or hide from the integration user, which q2c
can do without (``crm.absent_fields``)."""


class Crm(_Strict):
    currency: str = ""
    absent_fields: list[Literal[OPTIONAL_CRM_FIELDS]] = []  # type: ignore[valid-type]

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD)")
        return value

    @property
    def multi_currency(self) -> bool:
        """Multi-currency on: each record carries CurrencyIsoCode."""
        return not self.currency


def _iso_country(value: object, where: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", str(value)):
        raise ValueError(f"{where}{value!r} is not an ISO country code")


class Tax(_Strict):
    header_level_countries: list[str] = []
    """Countries whose legal entities carry sales tax on the invoice header (NetSuite's legacy
    tax: the header's ``taxitem`` and ``taxtotal``, each line ``istaxable``), not a tax code
    per line."""

    @field_validator("header_level_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        for country in value:
            _iso_country(country, "")
        return value


class Role(_Strict):
    name: str
    code: str
    erp_item: str


class Vocabulary(_Strict):
    offices: dict[str, str] = {}
    roles: list[Role] = []
    stages: dict[str, Literal["open", "won", "lost"]] = {}

    @field_validator("offices")
    @classmethod
    def _countries(cls, value: dict[str, str]) -> dict[str, str]:
        for office, country in value.items():
            _iso_country(country, f"office {office!r}: ")
        return value

    @field_validator("roles")
    @classmethod
    def _roles_once(cls, value: list[Role]) -> list[Role]:
        for key in ("name", "code", "erp_item"):  # one role per item: lines join on it
            seen: set[str] = set()
            for role in value:
                if (item := getattr(role, key)) in seen:
                    raise ValueError(f"role {key} {item!r} is listed twice")
                seen.add(item)
        return value


class Tenant(_Strict):
    name: str = Field(min_length=1)
    links: Links = Links()
    crm: Crm = Crm()
    erp_fields: ErpFields = ErpFields()
    erp_transaction_types: list[str] = ["SalesOrd", "CustInvc", "CustCred", "CustPymt"]
    fixed_fee_items: list[str] = ["FIXED_FEE"]
    tax: Tax = Tax()
    vocabulary: Vocabulary = Vocabulary()

    @field_validator("erp_transaction_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        needed = {"SalesOrd", "CustInvc"}
        if missing := needed - set(value):
            raise ValueError(f"must include {', '.join(sorted(missing))} (q2c reconciles them)")
        for kind in value:
            if not _FIELD_NAME.match(kind):
                raise ValueError(f"{kind!r} is not a NetSuite transaction type")
        return value

    @property
    def stages(self) -> dict[str, str]:
        """Every stage name q2c knows: Salesforce's defaults, then the profile's."""
        return {**SALESFORCE_STAGES, **self.vocabulary.stages}

    def dbt_vars(self) -> dict[str, Any]:
        """The profile as dbt vars (``q2c_*``), as the models read them."""
        links = self.links
        return {
            "q2c_tenant": self.name,
            "q2c_project_deal_link": links.project_deal.via,
            "q2c_project_deal_pattern": links.project_deal.pattern,
            "q2c_project_deal_group": links.project_deal.group,
            "q2c_invoice_number_field": links.billed_time_invoice.erp_field,
            "q2c_invoice_deal_link": links.invoice_deal.via,
            "q2c_customer_country_link": links.customer_country.via,
            "q2c_consultant_entity": links.consultant_entity.via,
            "q2c_crm_currency": self.crm.currency,
            "q2c_crm_absent_fields": list(self.crm.absent_fields),
            "q2c_erp_fields": self.erp_fields.model_dump(),
            "q2c_erp_transaction_types": list(self.erp_transaction_types),
            "q2c_fixed_fee_items": list(self.fixed_fee_items),
            "q2c_header_tax_countries": list(self.tax.header_level_countries),
            "q2c_offices": [[o, c] for o, c in self.vocabulary.offices.items()],
            "q2c_roles": [[r.name, r.code, r.erp_item] for r in self.vocabulary.roles],
            "q2c_stages": [[s, c] for s, c in self.stages.items()],
        }


def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(top level)"


@functools.cache
def _load(path: Path, mtime_ns: int) -> Tenant:
    where = f"{TENANT_PROFILE_VAR}={path}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TenantError(f"{where}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise TenantError(f"{where}: not YAML{line}") from None
    if not isinstance(data, dict):
        raise TenantError(f"{where}: a profile is a mapping of keys (name, links, ...)")
    try:
        return Tenant.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        also = f" (and {more} more)" if more else ""
        raise TenantError(f"{where}: {_location(first)}: {message}{also}") from None


def load_tenant(path: str | Path | None = None) -> Tenant:
    """The profile at ``path`` (default: the simulated firm's), checked; read once per version
    of the file."""
    resolved = Path(path or DEFAULT_PROFILE).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise TenantError(
            f"{TENANT_PROFILE_VAR}={resolved}: cannot read it ({exc.strerror})"
        ) from None
    return _load(resolved, mtime)
