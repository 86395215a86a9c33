-- Invoice lines billed at another rate than contracted as at each report period
-- (reconciliation.invoice_rate_variance of the period and every earlier one), one row per
-- NetSuite line with its Salesforce opportunity, the largest variance (either sign) first.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

invoice_rate_variance as (
    select * from {{ ref('invoice_rate_variance') }}
),

final as (
    select
        cast(report_periods.report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_periods.report_period
            order by abs(invoice_rate_variance.amount_reporting) desc nulls last, invoice_rate_variance.source_record_id
        ) as integer) as row_order,
        cast(invoice_rate_variance.source_system as varchar) as source_system,
        cast(invoice_rate_variance.source_record_id as varchar) as source_record_id,
        cast(invoice_rate_variance.invoice_number as varchar) as invoice_number,
        cast(invoice_rate_variance.line_number as integer) as line_number,
        cast(invoice_rate_variance.item_code as varchar) as item_code,
        cast(invoice_rate_variance.opportunity_id as varchar) as opportunity_id,
        cast(invoice_rate_variance.opportunity_line_item_id as varchar) as opportunity_line_item_id,
        cast(invoice_rate_variance.invoice_date as date) as invoice_date,
        cast(invoice_rate_variance.period as varchar) as period,
        cast(invoice_rate_variance.legal_entity as varchar) as legal_entity,
        cast(invoice_rate_variance.quantity as decimal(10, 2)) as quantity,
        cast(invoice_rate_variance.currency as varchar) as currency,
        cast(invoice_rate_variance.rate as decimal(18, 2)) as rate,
        cast(invoice_rate_variance.contracted_rate as decimal(18, 2)) as contracted_rate,
        cast(invoice_rate_variance.amount as decimal(18, 2)) as amount,
        cast(invoice_rate_variance.reporting_currency as varchar) as reporting_currency,
        cast(invoice_rate_variance.amount_reporting as decimal(18, 2)) as amount_reporting
    from report_periods
    inner join invoice_rate_variance
        on invoice_rate_variance.period <= report_periods.report_period
)

select * from final
