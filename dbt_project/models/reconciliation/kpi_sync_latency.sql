-- Sync latency per source system and resource: when the warehouse last loaded it and how many
-- loads it has had, how many records it holds, and how long changes waited between their source
-- system and the warehouse: seconds from a record's last change to the load that brought it, over
-- the changes incremental syncs picked up (changed after the previous load;
-- int_reconciliation__sync_latency). Null until a second load.
with

latency as (
    select * from {{ ref('int_reconciliation__sync_latency') }}
),

final as (
    select
        cast({{ dbt.concat(['source_system', "'|'", 'resource']) }} as {{ dbt.type_string() }}) as source_resource_key,
        source_system,
        resource,
        max(loaded_at) as last_loaded_at,
        cast(count(distinct load_id) as integer) as load_count,
        cast(count(*) as integer) as record_count,
        max(source_modified_at) as last_source_change_at,
        cast(sum(case when is_synced_change then 1 else 0 end) as integer) as synced_change_count,
        cast(avg(case when is_synced_change then latency_seconds end) as decimal(18, 1)) as avg_latency_seconds,
        cast({{ median('case when is_synced_change then latency_seconds end') }} as decimal(18, 1)) as median_latency_seconds,
        cast(max(case when is_synced_change then latency_seconds end) as bigint) as max_latency_seconds
    from latency
    group by
        source_system,
        resource
)

select * from final
