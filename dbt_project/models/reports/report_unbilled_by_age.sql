-- Unbilled approved time as at each report period (its own and every earlier period's entries,
-- reconciliation.unbilled_approved_time) by aging bucket and transaction currency, youngest
-- bucket first.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

unbilled_approved_time as (
    select * from {{ ref('unbilled_approved_time') }}
),

by_bucket as (
    select
        report_periods.report_period,
        unbilled_approved_time.aging_bucket,
        unbilled_approved_time.currency,
        unbilled_approved_time.reporting_currency,
        count(*) as entry_count,
        sum(unbilled_approved_time.hours) as hours,
        sum(unbilled_approved_time.amount) as amount,
        sum(unbilled_approved_time.amount_reporting) as amount_reporting,
        min(unbilled_approved_time.age_days) as youngest_age_days
    from report_periods
    inner join unbilled_approved_time
        on unbilled_approved_time.period <= report_periods.report_period
    group by
        report_periods.report_period,
        unbilled_approved_time.aging_bucket,
        unbilled_approved_time.currency,
        unbilled_approved_time.reporting_currency
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_period order by youngest_age_days, currency
        ) as integer) as row_order,
        cast(aging_bucket as varchar) as aging_bucket,
        cast(currency as varchar) as currency,
        cast(entry_count as integer) as entry_count,
        cast(hours as decimal(12, 2)) as hours,
        cast(amount as decimal(18, 2)) as amount,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(amount_reporting as decimal(18, 2)) as amount_reporting
    from by_bucket
)

select * from final
