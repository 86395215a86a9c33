-- When the warehouse last loaded each source resource and how long changes waited
-- (reconciliation.kpi_sync_latency), by source system and resource; timestamps in UTC.
with

kpi_sync_latency as (
    select * from {{ ref('kpi_sync_latency') }}
),

final as (
    select
        cast(row_number() over (order by source_system, resource) as integer) as row_order,
        cast(source_system as varchar) as source_system,
        cast(resource as varchar) as resource,
        cast(last_loaded_at at time zone 'UTC' as timestamp) as last_loaded_at_utc,
        cast(load_count as integer) as load_count,
        cast(record_count as integer) as record_count,
        cast(last_source_change_at at time zone 'UTC' as timestamp) as last_source_change_at_utc,
        cast(synced_change_count as integer) as synced_change_count,
        cast(median_latency_seconds as decimal(18, 1)) as median_latency_seconds,
        cast(max_latency_seconds as bigint) as max_latency_seconds
    from kpi_sync_latency
)

select * from final
