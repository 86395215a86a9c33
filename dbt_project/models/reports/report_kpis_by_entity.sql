-- Each legal entity's cycle times of the report period (reconciliation.kpi_cycle_times), in
-- legal entity order.
with

kpi_cycle_times as (
    select * from {{ ref('kpi_cycle_times') }}
),

final as (
    select
        cast(period as varchar) as report_period,
        cast(row_number() over (partition by period order by legal_entity_id) as integer) as row_order,
        cast(legal_entity_id as integer) as legal_entity_id,
        cast(legal_entity as varchar) as legal_entity,
        cast(won_deal_count as integer) as won_deal_count,
        cast(closed_won_to_project_days as decimal(10, 1)) as closed_won_to_project_days,
        cast(invoice_count as integer) as invoice_count,
        cast(approval_to_invoice_days as decimal(10, 1)) as approval_to_invoice_days,
        cast(time_to_invoice_days as decimal(10, 1)) as time_to_invoice_days,
        cast(paid_invoice_count as integer) as paid_invoice_count,
        cast(invoice_to_payment_days as decimal(10, 1)) as invoice_to_payment_days,
        cast(dso_days as decimal(10, 1)) as dso_days,
        cast(realization_pct as decimal(10, 2)) as realization_pct,
        cast(functional_currency as varchar) as functional_currency,
        cast(receivables_at_end as decimal(18, 2)) as receivables_at_end
    from kpi_cycle_times
)

select * from final
