-- Open exceptions as at each report period (of the period and every earlier one, open on the
-- as-of date) counted by type, with their amount in the reporting currency: the report asset's
-- metadata.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

open_exceptions as (
    select * from {{ ref('exceptions') }}
    where status = 'open'
),

by_type as (
    select
        report_periods.report_period,
        open_exceptions.exception_type,
        count(*) as exception_count,
        any_value(open_exceptions.reporting_currency) as reporting_currency,
        sum(open_exceptions.amount_reporting) as amount_reporting
    from report_periods
    inner join open_exceptions
        on open_exceptions.period <= report_periods.report_period
    group by
        report_periods.report_period,
        open_exceptions.exception_type
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(row_number() over (partition by report_period order by exception_type) as integer) as row_order,
        cast(exception_type as varchar) as exception_type,
        cast(exception_count as integer) as exception_count,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(amount_reporting as decimal(18, 2)) as amount_reporting
    from by_type
)

select * from final
