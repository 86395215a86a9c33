-- Every open exception on the as-of date, whatever its period, by type and aging bucket
-- (reconciliation.kpi_exception_aging), in the reporting currency; by type, youngest bucket first.
with

kpi_exception_aging as (
    select * from {{ ref('kpi_exception_aging') }}
    where status = 'open'
),

-- the group's reporting currency (the same for every report period)
reporting as (
    select any_value(reporting_currency) as reporting_currency
    from {{ ref('report_periods') }}
),

final as (
    select
        cast(row_number() over (
            order by kpi_exception_aging.exception_type, kpi_exception_aging.max_age_days, kpi_exception_aging.aging_bucket
        ) as integer) as row_order,
        cast(kpi_exception_aging.exception_type as varchar) as exception_type,
        cast(kpi_exception_aging.aging_bucket as varchar) as aging_bucket,
        cast(kpi_exception_aging.exception_count as integer) as exception_count,
        cast(reporting.reporting_currency as varchar) as reporting_currency,
        cast(kpi_exception_aging.amount_reporting as decimal(18, 2)) as amount_reporting,
        cast(kpi_exception_aging.avg_age_days as decimal(10, 1)) as avg_age_days,
        cast(kpi_exception_aging.max_age_days as integer) as max_age_days
    from kpi_exception_aging
    cross join reporting
)

select * from final
