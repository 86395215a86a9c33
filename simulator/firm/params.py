"""Parameters of the synthetic firm and the fixed facts its story is built from.

Everything the generator knows about the business that is not random lives here: the
three legal entities, the rate card, the tax codes, the clock convention. The README
documents the same facts as the integration contract, so keep the two in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tenants import Conventions


@dataclass(frozen=True)
class Scale:
    consultants: int
    months: int
    """Full months of history before the as-of month (which is generated too)."""


SCALES: dict[str, Scale] = {
    "small": Scale(consultants=50, months=12),
    "medium": Scale(consultants=500, months=24),
    "large": Scale(consultants=2000, months=36),
}


@dataclass(frozen=True)
class FirmParams:
    """What determines a firm: the same parameters always give the same tables."""

    seed: int = 42
    scale: str = "small"
    as_of: date = date(2026, 11, 25)
    problem_rate: float = 0.03
    grace_days: int = 10
    tenant: str = "simulator"
    """Whose conventions the firm's systems keep (tenants.TENANTS)."""

    def __post_init__(self) -> None:
        from .tenants import TENANTS

        if self.tenant not in TENANTS:
            raise ValueError(f"unknown tenant {self.tenant!r}: use one of {', '.join(TENANTS)}")
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}: use one of {', '.join(SCALES)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0.0 <= self.problem_rate <= 0.5:
            raise ValueError(f"problem rate must be between 0 and 0.5, got {self.problem_rate}")
        # Invoices are raised three days after month end; a shorter grace period would
        # make every clean month look unbilled for a few days.
        if not 3 <= self.grace_days <= 60:
            raise ValueError(f"grace days must be between 3 and 60, got {self.grace_days}")
        if not isinstance(self.as_of, date) or isinstance(self.as_of, datetime):
            raise ValueError(f"as_of must be a date, got {self.as_of!r}")

    @property
    def conventions(self) -> Conventions:
        from .tenants import TENANTS

        return TENANTS[self.tenant]

    @property
    def scale_spec(self) -> Scale:
        return SCALES[self.scale]

    @property
    def start_date(self) -> date:
        """First day of the history: the first of the month `months` before as_of's month."""
        return add_months(self.as_of.replace(day=1), -self.scale_spec.months)

    def to_meta(self) -> dict[str, str]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        return {k: str(v) for k, v in d.items()}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> FirmParams:
        return cls(
            seed=int(meta["seed"]),
            scale=meta["scale"],
            as_of=date.fromisoformat(meta["as_of"]),
            problem_rate=float(meta["problem_rate"]),
            grace_days=int(meta["grace_days"]),
            tenant=meta.get("tenant", "simulator"),
        )


# --- the clock -----------------------------------------------------------------------
# The clock stands at 20:00 (UTC) of its date. Every business event of a day happens
# before 17:00, time entries are saved between 17:00 and 19:00, and the changes that
# advance() makes on purpose (fixes, new problems, deletes) between 19:00 and 20:00,
# so that a day's events are always complete when the clock stands on that day.
CLOCK_TIME = time(20, 0)


def clock_at(d: date) -> datetime:
    return datetime.combine(d, CLOCK_TIME)


def add_months(d: date, months: int) -> date:
    """The same day-of-month `months` later; only ever called with day 1."""
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def month_end(d: date) -> date:
    return add_months(d.replace(day=1), 1) - timedelta(days=1)


# --- legal entities ------------------------------------------------------------------
@dataclass(frozen=True)
class Entity:
    id: int
    name: str
    country: str
    currency: str
    office: str
    timezone: str
    staff_share: float


ENTITIES: tuple[Entity, ...] = (
    Entity(1, "Q2C Group Inc.", "US", "USD", "New York", "Eastern Time (US & Canada)", 0.45),
    Entity(2, "Q2C Consulting Ltd", "GB", "GBP", "London", "London", 0.25),
    Entity(3, "Q2C Beratung GmbH", "DE", "EUR", "Berlin", "Berlin", 0.30),
)
ENTITY_BY_ID = {e.id: e for e in ENTITIES}

CURRENCY_IDS: dict[str, int] = {"USD": 1, "GBP": 2, "EUR": 3}
CURRENCY_NAMES = {"USD": "US Dollar", "GBP": "British pound", "EUR": "Euro"}
FX_START = {"GBP": 1.27, "EUR": 1.08}
"""Units of USD per unit of currency at the start of the history."""

COUNTRY_ENTITY: dict[str, int] = {"US": 1, "GB": 2, "DE": 3, "FR": 3, "NL": 3}
ENTITY3_COUNTRIES = (("DE", 0.5), ("FR", 0.25), ("NL", 0.25))
LEGAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Inc", "Corp", "LLC"),
    "GB": ("Ltd", "Limited", "PLC"),
    "DE": ("GmbH", "AG"),
    "FR": ("SA",),
    "NL": ("BV",),
}
USD_DEAL_SHARE = 0.15
"""Share of non-US customers that contract in USD instead of their entity's currency."""


# --- rate card -----------------------------------------------------------------------
@dataclass(frozen=True)
class Role:
    code: str
    """ProductCode in Salesforce, itemid in NetSuite."""
    name: str
    """Task name in Harvest and first element of a Harvest user's roles."""
    staff_share: float
    rate: dict[str, int]
    cost: dict[str, int]


ROLES: tuple[Role, ...] = (
    Role(
        "PARTNER",
        "Partner",
        0.10,
        {"USD": 350, "GBP": 280, "EUR": 320},
        {"USD": 190, "GBP": 150, "EUR": 170},
    ),
    Role(
        "SENIOR_CONSULTANT",
        "Senior Consultant",
        0.25,
        {"USD": 250, "GBP": 200, "EUR": 230},
        {"USD": 120, "GBP": 95, "EUR": 110},
    ),
    Role(
        "CONSULTANT",
        "Consultant",
        0.40,
        {"USD": 180, "GBP": 145, "EUR": 165},
        {"USD": 85, "GBP": 68, "EUR": 78},
    ),
    Role(
        "ANALYST",
        "Analyst",
        0.25,
        {"USD": 120, "GBP": 95, "EUR": 110},
        {"USD": 55, "GBP": 44, "EUR": 50},
    ),
)
FIXED_FEE_ITEM = "FIXED_FEE"
RATE_DEVIATIONS = (0.9, 0.95, 1.0, 1.0, 1.0, 1.05, 1.1)
"""Negotiated deviation from the rate card, per deal and role."""


# --- tax -------------------------------------------------------------------------
@dataclass(frozen=True)
class TaxCode:
    id: int
    itemid: str
    name: str
    rate: float
    country: str


TAX_CODES: tuple[TaxCode, ...] = (
    TaxCode(11, "UK-VAT-20", "UK VAT 20%", 20.0, "GB"),
    TaxCode(12, "DE-UST-19", "DE USt 19%", 19.0, "DE"),
    TaxCode(13, "EU-RC-0", "EU Reverse Charge 0%", 0.0, "EU"),
    TaxCode(14, "US-EXEMPT-0", "US Exempt Services 0%", 0.0, "US"),
)
TAX_BY_COUNTRY: dict[str, TaxCode] = {
    "GB": TAX_CODES[0],
    "DE": TAX_CODES[1],
    "FR": TAX_CODES[2],
    "NL": TAX_CODES[2],
    "US": TAX_CODES[3],
}

# --- business rhythm -------------------------------------------------------------------
INVOICE_LAG_DAYS = 3
"""Invoices for a service month are created this many days after the month ends."""
APPROVAL_DAYS = 7
"""Time is approved a week after it is spent, or at the latest two days after month end."""
MONTH_END_APPROVAL_DAYS = 2
PERIOD_CLOSE_DAYS = 8
"""A period closes this many days after its last day, at 18:00."""
ARCHIVE_DAYS = 30
"""A PSA project is archived (is_active false) this many days after it ends."""
PLAN_LOOKAHEAD_DAYS = 200
"""The plan is built this far beyond the clock, so every deal already talked about exists."""
