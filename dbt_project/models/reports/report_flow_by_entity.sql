-- Booked -> delivered -> billed -> collected of the report period per legal entity, over its
-- transaction currencies: in the entity's functional currency and in the reporting currency.
with

month_end_variance as (
    select * from {{ ref('month_end_variance') }}
),

by_entity as (
    select
        period,
        legal_entity_id,
        legal_entity,
        functional_currency,
        sum(booked_functional) as booked_functional,
        sum(delivered_functional) as delivered_functional,
        sum(billed_functional) as billed_functional,
        sum(collected_functional) as collected_functional,
        reporting_currency,
        sum(booked_reporting) as booked_reporting,
        sum(delivered_reporting) as delivered_reporting,
        sum(billed_reporting) as billed_reporting,
        sum(collected_reporting) as collected_reporting
    from month_end_variance
    group by
        period,
        legal_entity_id,
        legal_entity,
        functional_currency,
        reporting_currency
),

final as (
    select
        cast(period as varchar) as report_period,
        cast(row_number() over (partition by period order by legal_entity_id) as integer) as row_order,
        cast(legal_entity_id as integer) as legal_entity_id,
        cast(legal_entity as varchar) as legal_entity,
        cast(functional_currency as varchar) as functional_currency,
        cast(booked_functional as decimal(18, 2)) as booked_functional,
        cast(delivered_functional as decimal(18, 2)) as delivered_functional,
        cast(billed_functional as decimal(18, 2)) as billed_functional,
        cast(collected_functional as decimal(18, 2)) as collected_functional,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(booked_reporting as decimal(18, 2)) as booked_reporting,
        cast(delivered_reporting as decimal(18, 2)) as delivered_reporting,
        cast(billed_reporting as decimal(18, 2)) as billed_reporting,
        cast(collected_reporting as decimal(18, 2)) as collected_reporting
    from by_entity
)

select * from final
