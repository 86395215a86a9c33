with

source as (
    select * from {{ source('psa', 'users') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='updated_at desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as user_id,
        -- strings
        first_name,
        last_name,
        first_name || ' ' || last_name as user_name,
        email,
        timezone,
        roles as roles_json,
        -- numerics
        weekly_capacity,
        cast(default_hourly_rate as decimal(18, 2)) as default_hourly_rate,
        cast(cost_rate as decimal(18, 2)) as cost_rate,
        -- booleans
        is_contractor,
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
