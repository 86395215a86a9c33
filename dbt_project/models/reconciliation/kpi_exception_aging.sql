-- Exception counts and aging by type: per exception type, status and aging bucket, how many
-- exceptions, their amount in the reporting currency, and their average and oldest age in days
-- (reconciliation.exceptions; age from the problem's date to the as-of date or its resolution).
with

exceptions as (
    select * from {{ ref('exceptions') }}
),

final as (
    select
        cast({{ dbt.concat(['exception_type', "'|'", 'status', "'|'", 'aging_bucket']) }} as {{ dbt.type_string() }}) as type_status_bucket_key,
        exception_type,
        status,
        aging_bucket,
        cast(count(*) as integer) as exception_count,
        cast(sum(amount_reporting) as {{ money_type() }}) as amount_reporting,
        cast(avg(age_days) as decimal(10, 1)) as avg_age_days,
        cast(max(age_days) as integer) as max_age_days,
        min(first_detected_at) as first_detected_at,
        max(last_seen_at) as last_seen_at
    from exceptions
    group by
        exception_type,
        status,
        aging_bucket
)

select * from final
