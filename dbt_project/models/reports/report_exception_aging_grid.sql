-- The exception aging chart's grid: every exception type with an open exception against every
-- aging bucket one has, with the count of open exceptions (0 where none). Types in name order,
-- buckets youngest first (by the youngest oldest-age among the types in it).
with

kpi_exception_aging as (
    select * from {{ ref('kpi_exception_aging') }}
    where status = 'open'
),

exception_types as (
    select distinct exception_type
    from kpi_exception_aging
),

buckets as (
    select
        aging_bucket,
        min(max_age_days) as youngest_max_age_days
    from kpi_exception_aging
    group by aging_bucket
),

grid as (
    select
        exception_types.exception_type,
        buckets.aging_bucket,
        buckets.youngest_max_age_days,
        coalesce(kpi_exception_aging.exception_count, 0) as exception_count
    from exception_types
    cross join buckets
    left join kpi_exception_aging
        on exception_types.exception_type = kpi_exception_aging.exception_type
        and buckets.aging_bucket = kpi_exception_aging.aging_bucket
),

final as (
    select
        cast(row_number() over (
            order by exception_type, youngest_max_age_days, aging_bucket
        ) as integer) as row_order,
        cast(exception_type as varchar) as exception_type,
        cast(aging_bucket as varchar) as aging_bucket,
        cast(exception_count as integer) as exception_count
    from grid
)

select * from final
