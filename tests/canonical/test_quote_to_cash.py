"""The lifecycle table ties out to the sources: each side computed on its own from raw tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from simulator.firm.params import COUNTRY_ENTITY
from tests.support import BuiltWarehouse

Query = Callable[[str], list[tuple]]
Totals = dict[tuple[int, str], Decimal]

# The latest version of every raw record that its source has not deleted.
LIVE_OPPORTUNITIES = """
    select * from (
        select *, row_number() over (partition by id order by system_modstamp desc) as version
        from raw_crm.opportunities
    ) where version = 1 and not coalesce(is_deleted, false) and _deleted_at is null
"""
LIVE_ACCOUNTS = LIVE_OPPORTUNITIES.replace("opportunities", "accounts")
LIVE_TRANSACTIONS = """
    select * from (
        select *, row_number() over (partition by id order by lastmodifieddate desc) as version
        from raw_erp.transaction
    ) where version = 1 and _deleted_at is null
"""
LIVE_LINES = """
    select * from (
        select *, row_number() over (partition by uniquekey order by linelastmodifieddate desc)
            as version
        from raw_erp.transactionline
    ) where version = 1 and _deleted_at is null
"""


def _totals(rows: list[tuple]) -> Totals:
    out: Counter = Counter()
    for entity, currency, amount in rows:
        if amount:
            out[(int(entity), currency)] += Decimal(amount)
    return dict(out)


def booked_from_crm(query: Query) -> Totals:
    """Closed-won amounts per legal entity and currency; the entity from the account's country."""
    rows = query(
        f"""
        select a.billing_country, o.currency_iso_code, sum(o.amount)
        from ({LIVE_OPPORTUNITIES}) as o
        join ({LIVE_ACCOUNTS}) as a on a.id = o.account_id
        where o.is_won
        group by all
        """
    )
    return _totals([(COUNTRY_ENTITY[country], cur, amount) for country, cur, amount in rows])


def billed_from_erp(query: Query) -> Totals:
    """Net amounts of invoice (CustInvc) lines per subsidiary and invoice currency."""
    return _totals(
        query(
            f"""
            select t.subsidiary, c.symbol, sum(cast(l.netamount as decimal(18, 2)))
            from ({LIVE_LINES}) as l
            join ({LIVE_TRANSACTIONS}) as t on t.id = l."transaction"
            join raw_erp.currency as c on c.id = t.currency
            where t.type = 'CustInvc'
            group by all
            """
        )
    )


def collected_from_erp(query: Query) -> Totals:
    """Customer payments (CustPymt) per subsidiary and currency."""
    return _totals(
        query(
            f"""
            select t.subsidiary, c.symbol, sum(cast(t.foreigntotal as decimal(18, 2)))
            from ({LIVE_TRANSACTIONS}) as t
            join raw_erp.currency as c on c.id = t.currency
            where t.type = 'CustPymt'
            group by all
            """
        )
    )


def lifecycle_totals(query: Query, measure: str) -> Totals:
    """A quote_to_cash measure per legal entity and currency, other-currency parts included."""
    rows = query(
        f"select legal_entity_id, currency, sum({measure}_amount) "
        "from canonical.quote_to_cash group by all"
    )
    if measure in ("billed", "collected"):
        rows += query(
            f"select legal_entity_id, other_currency, sum({measure}_amount_other_currency) "
            "from canonical.quote_to_cash where other_currency is not null group by all"
        )
    return _totals(rows)


def test_booked_ties_out_to_closed_won_amounts(built_warehouse: BuiltWarehouse) -> None:
    expected = booked_from_crm(built_warehouse.query)
    assert len(expected) >= 3, expected
    assert lifecycle_totals(built_warehouse.query, "booked") == expected


def test_billed_ties_out_to_erp_invoice_lines(built_warehouse: BuiltWarehouse) -> None:
    expected = billed_from_erp(built_warehouse.query)
    assert len(expected) >= 3, expected
    assert lifecycle_totals(built_warehouse.query, "billed") == expected


def test_collected_ties_out_to_erp_payments(built_warehouse: BuiltWarehouse) -> None:
    expected = collected_from_erp(built_warehouse.query)
    assert expected
    assert lifecycle_totals(built_warehouse.query, "collected") == expected


def test_one_row_per_won_deal(built_warehouse: BuiltWarehouse) -> None:
    (won,) = built_warehouse.query(f"select count(*) from ({LIVE_OPPORTUNITIES}) where is_won")[0]
    rows, deals = built_warehouse.query(
        "select count(*), count(distinct opportunity_id) from canonical.quote_to_cash"
    )[0]
    assert won == rows == deals > 0


def test_lifecycle_runs_forward(built_warehouse: BuiltWarehouse) -> None:
    (backwards,) = built_warehouse.query(
        """select count(*) from canonical.quote_to_cash
           where first_invoice_date < closed_won_date or first_payment_date < first_invoice_date"""
    )[0]
    assert backwards == 0
    stages = dict(
        built_warehouse.query(
            "select lifecycle_stage, count(*) from canonical.quote_to_cash group by all"
        )
    )
    assert stages.get("collecting", 0) > 0, stages


def test_reporting_amounts_follow_the_erp_rates(built_warehouse: BuiltWarehouse) -> None:
    """The cross rate used for CRM and PSA amounts is the one NetSuite puts on its documents."""
    (disagree,) = built_warehouse.query(
        """select count(*)
           from canonical.invoices as i
           join intermediate.int_exchange_rates as r
             on r.period_id = i.period_id and r.legal_entity_id = i.legal_entity_id
            and r.transaction_currency = i.currency
           where r.transaction_to_functional_rate <> i.exchange_rate"""
    )[0]
    assert disagree == 0
    (usd_mismatch,) = built_warehouse.query(
        """select count(*) from canonical.quote_to_cash
           where functional_currency = reporting_currency
             and (booked_amount_functional <> booked_amount_reporting
                  or billed_amount_functional <> billed_amount_reporting)"""
    )[0]
    assert usd_mismatch == 0
