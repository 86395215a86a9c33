with

source as (
    select * from {{ source('psa', 'tasks') }}
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
        _dlt_load_id
    from source
)

select * from renamed
