-- Exchange rates per accounting period, legal entity and transaction currency, from the ERP.
--   transaction -> functional: NetSuite's rule, the cross rate through the reporting currency,
--     round(reporting_per_unit(transaction) / reporting_per_unit(functional), 6). ERP transactions
--     carry this rate themselves (`exchangerate`) and the canonical models use the transaction's
--     own; this table converts amounts that come from the CRM and the PSA.
--   functional -> reporting: the consolidated exchange rate's average rate of the period from the
--     entity to the reporting (root) entity: a period average, as flows are converted. 1 for the
--     reporting entity itself.
with

periods as (
    select * from {{ ref('stg_netsuite__accounting_periods') }}
    where not is_deleted
        and not is_quarter
        and not is_year
),

subsidiaries as (
    select * from {{ ref('stg_netsuite__subsidiaries') }}
    where not is_deleted
),

currencies as (
    select * from {{ ref('stg_netsuite__currencies') }}
    where not is_deleted
),

consolidated_rates as (
    select * from {{ ref('stg_netsuite__consolidated_exchange_rates') }}
    where not is_deleted
),

reporting_entity as (
    select
        subsidiaries.subsidiary_id,
        currencies.currency as reporting_currency
    from subsidiaries
    inner join currencies
        on subsidiaries.currency_id = currencies.currency_id
    where subsidiaries.parent_subsidiary_id is null
),

legal_entities as (
    select
        subsidiaries.subsidiary_id as legal_entity_id,
        currencies.currency as functional_currency
    from subsidiaries
    inner join currencies
        on subsidiaries.currency_id = currencies.currency_id
),

functional_to_reporting as (
    select
        periods.period_id,
        periods.start_date,
        periods.end_date,
        legal_entities.legal_entity_id,
        legal_entities.functional_currency,
        reporting_entity.reporting_currency,
        case
            when legal_entities.legal_entity_id = reporting_entity.subsidiary_id then cast(1 as {{ rate_type() }})
            else consolidated_rates.average_rate
        end as functional_to_reporting_rate
    from periods
    cross join legal_entities
    cross join reporting_entity
    left join consolidated_rates
        on periods.period_id = consolidated_rates.period_id
        and legal_entities.legal_entity_id = consolidated_rates.from_subsidiary_id
        and reporting_entity.subsidiary_id = consolidated_rates.to_subsidiary_id
),

-- units of reporting currency per unit of each currency some entity keeps its books in
reporting_per_unit as (
    select
        period_id,
        functional_currency as currency,
        max(functional_to_reporting_rate) as reporting_per_unit
    from functional_to_reporting
    group by
        period_id,
        functional_currency
),

final as (
    select
        functional_to_reporting.period_id,
        functional_to_reporting.start_date,
        functional_to_reporting.end_date,
        functional_to_reporting.legal_entity_id,
        reporting_per_unit.currency as transaction_currency,
        functional_to_reporting.functional_currency,
        functional_to_reporting.reporting_currency,
        case
            when reporting_per_unit.currency = functional_to_reporting.functional_currency then cast(1 as {{ rate_type() }})
            else cast(
                round(reporting_per_unit.reporting_per_unit / own_unit.reporting_per_unit, 6)
                as {{ rate_type() }}
            )
        end as transaction_to_functional_rate,
        functional_to_reporting.functional_to_reporting_rate
    from functional_to_reporting
    inner join reporting_per_unit
        on functional_to_reporting.period_id = reporting_per_unit.period_id
    left join reporting_per_unit as own_unit
        on functional_to_reporting.period_id = own_unit.period_id
        and functional_to_reporting.functional_currency = own_unit.currency
)

select * from final
