-- The report period's variances per legal entity and transaction currency
-- (reconciliation.month_end_variance): material billing gaps first, then the largest gaps in the
-- reporting currency.
with

month_end_variance as (
    select * from {{ ref('month_end_variance') }}
),

final as (
    select
        cast(period as varchar) as report_period,
        cast(row_number() over (
            partition by period
            order by is_material desc, abs(billing_gap_reporting) desc, legal_entity_id, currency
        ) as integer) as row_order,
        cast(period_entity_currency_key as varchar) as period_entity_currency_key,
        cast(legal_entity_id as integer) as legal_entity_id,
        cast(legal_entity as varchar) as legal_entity,
        cast(currency as varchar) as currency,
        cast(delivered_minus_booked as decimal(18, 2)) as delivered_minus_booked,
        cast(billing_gap as decimal(18, 2)) as billing_gap,
        cast(collection_gap as decimal(18, 2)) as collection_gap,
        cast(booked_mom_change as decimal(18, 2)) as booked_mom_change,
        cast(delivered_mom_change as decimal(18, 2)) as delivered_mom_change,
        cast(billed_mom_change as decimal(18, 2)) as billed_mom_change,
        cast(collected_mom_change as decimal(18, 2)) as collected_mom_change,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(billing_gap_reporting as decimal(18, 2)) as billing_gap_reporting,
        cast(materiality_threshold_reporting as decimal(18, 2)) as materiality_threshold_reporting,
        cast(is_material as boolean) as is_material
    from month_end_variance
)

select * from final
