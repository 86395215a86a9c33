with

source as (
    select * from {{ source('psa', 'tasks') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='updated_at desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as task_id,
        -- strings
        name as task_name,
        -- numerics
        cast(default_hourly_rate as decimal(18, 2)) as default_hourly_rate,
        -- booleans
        billable_by_default,
        is_default,
        is_active,
        -- dates
        created_at,
        updated_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
