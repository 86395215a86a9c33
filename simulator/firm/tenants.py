"""The conventions a simulated firm keeps in its three systems: how they name and link things.

One story (who sells what to whom, who works on it, what goes wrong) can be written down by
firms with different habits. A `Conventions` is one such set of habits; the simulated firm
is the story told through one of them (FirmParams.tenant). Each tenant has a q2c profile,
`pipelines/tenants/<name>.yml`, that declares the same conventions to the pipeline, and the
pipeline must find every planted problem of every tenant from its profile alone.

- ``simulator``: the first firm. The Harvest project code is the Opportunity Id; a Harvest
  invoice number is the NetSuite document number; invoices carry the deal in a header field;
  customers carry their country in a custom field; a consultant's office is one of their
  Harvest roles; role, ProductCode and NetSuite item share one code; an invoice is dated
  the last day of the month it bills.
- ``atelier``: a second firm that does each of those differently (see ATELIER below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .params import ENTITY_BY_ID, FIXED_FEE_ITEM, ROLES


@dataclass(frozen=True)
class Conventions:
    name: str
    project_deal_in_name: bool
    """False: the Harvest project code is the Opportunity Id. True: the code is the firm's
    own job number and the name ends with the Opportunity Id in brackets."""
    harvest_invoice_prefix: str
    """Harvest invoice numbers are this prefix and the number of the NetSuite invoice's
    document number (INV<n>)."""
    invoice_number_in_otherrefnum: bool
    """True: the Harvest invoice number is keyed into NetSuite's otherrefnum (the document
    number tranid is NetSuite's own); False: the two systems share the number."""
    invoice_header_deal: bool
    """Whether invoices and credit memos carry the Opportunity Id in a header field (sales
    orders always do); without it an invoice reaches its deal through its lines' project."""
    customer_country_field: bool
    """Whether NetSuite customers carry their country in a custom field."""
    office_in_roles: bool
    """Whether a consultant's Harvest roles hold their office beside their job role."""
    cross_entity_share: float
    """Share of deals won for an entity's consultants with another entity's customer."""
    open_stages: tuple[str, str, str, str]
    role_names: dict[str, str]
    """Role code -> Harvest role and task name."""
    product_codes: dict[str, str]
    """Role code -> Salesforce ProductCode on the rate card."""
    erp_items: dict[str, str]
    """Role code (and FIXED_FEE_ITEM) -> NetSuite itemid."""
    first_words: tuple[str, ...] | None = None
    """First words of company names (None: names.FIRST_WORDS)."""
    erp_field_names: dict[str, str | None] = field(default_factory=dict)
    """Stored NetSuite column -> the script id this account gave the custom field (None: the
    account has no such field, and the API refuses it)."""
    hidden_crm_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Salesforce object -> standard fields the integration user cannot see."""
    header_tax_countries: tuple[str, ...] = ()
    """Entities in these countries carry sales tax on the invoice header (NetSuite's legacy
    tax: the header's taxitem and taxtotal, each line istaxable), not a tax code per line."""
    books_each_line_item: bool = False
    """False: a won deal is booked on one sales order, without tax. True: each of its line
    items on a sales order of its own, with the customer's tax (the order's total includes it)."""
    corrects_by_credit_and_rebill: bool = False
    """False: an invoice with a wrong rate, currency or tax code is corrected in place while
    its period is open. True: it is credited in full and issued again, corrected, under a new
    document number with the same Harvest invoice number (needs invoice_number_in_otherrefnum),
    whatever its period."""
    invoice_dated_when_raised: bool = False
    """False: an invoice is dated the last day of the month it bills, so it posts in the
    month worked. True: it is dated the day it is raised (INVOICE_LAG_DAYS into the next
    month) and posts there."""

    def project_deal_sql(self, alias: str) -> str:
        """SQL over hv_projects `alias`: the Opportunity Id the project names."""
        if self.project_deal_in_name:
            return f"regexp_extract({alias}.name, '\\[([0-9A-Za-z]+)\\]$', 1)"
        return f"{alias}.code"

    def project_fields(
        self, name: str, project_id: int, opp_id: str | None
    ) -> dict[str, str | None]:
        """Harvest project name and code for a project of deal `opp_id` named `name`."""
        if self.project_deal_in_name:
            return {
                "name": f"{name} [{opp_id}]" if opp_id else name,
                "code": f"J-{project_id % 1_000_000:06d}",
            }
        return {"name": name, "code": opp_id}

    def header_tax(self, entity: int) -> bool:
        """Whether legal entity `entity` carries tax on the invoice header."""
        return ENTITY_BY_ID[entity].country in self.header_tax_countries

    def harvest_invoice_number(self, tranid: str) -> str:
        """The number Harvest shows for the invoice NetSuite numbers `tranid`."""
        return self.harvest_invoice_prefix + tranid.removeprefix("INV")


SIMULATOR = Conventions(
    name="simulator",
    project_deal_in_name=False,
    harvest_invoice_prefix="INV",
    invoice_number_in_otherrefnum=False,
    invoice_header_deal=True,
    customer_country_field=True,
    office_in_roles=True,
    cross_entity_share=0.0,
    open_stages=("Prospecting", "Qualification", "Proposal", "Negotiation"),
    role_names={r.code: r.name for r in ROLES},
    product_codes={r.code: r.code for r in ROLES},
    erp_items={**{r.code: r.code for r in ROLES}, FIXED_FEE_ITEM: FIXED_FEE_ITEM},
)

ATELIER = Conventions(
    name="atelier",
    project_deal_in_name=True,
    harvest_invoice_prefix="HV-",
    invoice_number_in_otherrefnum=True,
    invoice_header_deal=False,
    customer_country_field=False,
    office_in_roles=False,
    cross_entity_share=0.15,
    # Salesforce's own default stage names, and one the firm added
    open_stages=("Qualification", "Proposal/Price Quote", "Verbal Commit", "Negotiation/Review"),
    role_names={
        "PARTNER": "Principal",
        "SENIOR_CONSULTANT": "Manager",
        "CONSULTANT": "Consultant",
        "ANALYST": "Associate",
    },
    product_codes={
        "PARTNER": "RC-PRN",
        "SENIOR_CONSULTANT": "RC-MGR",
        "CONSULTANT": "RC-CON",
        "ANALYST": "RC-ASC",
    },
    erp_items={
        "PARTNER": "4010 Principal",
        "SENIOR_CONSULTANT": "4020 Manager",
        "CONSULTANT": "4030 Consultant",
        "ANALYST": "4040 Associate",
        FIXED_FEE_ITEM: "4900 Milestone",
    },
    first_words=(
        "Müller & Söhne",
        "Łukasiewicz",
        "Ørsted",
        "Straßburger",
        "O’Brien",
        "Crème",
        "Zürcher",
        "Ålborg",
        "Čapek",
        "Núñez",
        "株式会社 山田",
        "Βορέας",
        "Северный",
        "Dupont",
        "Van der Berg",
        "Østergaard",
    ),
    erp_field_names={
        "custbody_sf_opportunity_id": "custbody_crm_deal_ref",
        "custcol_psa_project_id": "custcol_harvest_job",
        "custentity_billing_country": None,
    },
    hidden_crm_fields={"sf_account": ("ParentId",)},
    invoice_dated_when_raised=True,
    corrects_by_credit_and_rebill=True,
    header_tax_countries=("US",),
    books_each_line_item=True,
)

TENANTS: dict[str, Conventions] = {t.name: t for t in (SIMULATOR, ATELIER)}


def firm_conventions(con: Any) -> Conventions:
    """The conventions a generated firm's database keeps (its parameters' tenant)."""
    row = con.execute("select value from sim_meta where key = 'tenant'").fetchone()
    return TENANTS[row[0] if row else "simulator"]
