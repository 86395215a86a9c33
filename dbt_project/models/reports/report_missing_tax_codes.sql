-- Invoice lines without a tax code as at each report period (reconciliation.missing_tax_codes of
-- the period and every earlier one), one row per NetSuite line, the largest net amount first.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

missing_tax_codes as (
    select * from {{ ref('missing_tax_codes') }}
),

final as (
    select
        cast(report_periods.report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_periods.report_period
            order by missing_tax_codes.amount_reporting desc nulls last, missing_tax_codes.source_record_id
        ) as integer) as row_order,
        cast(missing_tax_codes.source_system as varchar) as source_system,
        cast(missing_tax_codes.source_record_id as varchar) as source_record_id,
        cast(missing_tax_codes.invoice_number as varchar) as invoice_number,
        cast(missing_tax_codes.line_number as integer) as line_number,
        cast(missing_tax_codes.item_code as varchar) as item_code,
        cast(missing_tax_codes.invoice_date as date) as invoice_date,
        cast(missing_tax_codes.period as varchar) as period,
        cast(missing_tax_codes.legal_entity as varchar) as legal_entity,
        cast(missing_tax_codes.currency as varchar) as currency,
        cast(missing_tax_codes.amount as decimal(18, 2)) as amount,
        cast(missing_tax_codes.reporting_currency as varchar) as reporting_currency,
        cast(missing_tax_codes.amount_reporting as decimal(18, 2)) as amount_reporting,
        cast(missing_tax_codes.details as varchar) as details
    from report_periods
    inner join missing_tax_codes
        on missing_tax_codes.period <= report_periods.report_period
)

select * from final
