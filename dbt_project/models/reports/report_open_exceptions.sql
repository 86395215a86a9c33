-- The drill-down: every exception of each report period and every earlier one that is open on
-- the as-of date (reconciliation.exceptions), with the source system and record id to open, by
-- type and the largest amount first.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

open_exceptions as (
    select * from {{ ref('exceptions') }}
    where status = 'open'
),

final as (
    select
        cast(report_periods.report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_periods.report_period
            order by
                open_exceptions.exception_type,
                open_exceptions.amount_reporting desc nulls last,
                open_exceptions.source_record_id,
                open_exceptions.exception_id
        ) as integer) as row_order,
        cast(open_exceptions.exception_id as varchar) as exception_id,
        cast(open_exceptions.exception_type as varchar) as exception_type,
        cast(open_exceptions.source_system as varchar) as source_system,
        cast(open_exceptions.source_record_id as varchar) as source_record_id,
        cast(open_exceptions.legal_entity as varchar) as legal_entity,
        cast(open_exceptions.period as varchar) as period,
        cast(open_exceptions.occurred_on as date) as occurred_on,
        cast(open_exceptions.currency as varchar) as currency,
        cast(open_exceptions.amount as decimal(18, 2)) as amount,
        cast(open_exceptions.reporting_currency as varchar) as reporting_currency,
        cast(open_exceptions.amount_reporting as decimal(18, 2)) as amount_reporting,
        cast(open_exceptions.age_days as integer) as age_days,
        cast(open_exceptions.aging_bucket as varchar) as aging_bucket,
        cast(open_exceptions.details as varchar) as details
    from report_periods
    inner join open_exceptions
        on open_exceptions.period <= report_periods.report_period
)

select * from final
