with

source as (
    select * from {{ source('psa', 'users') }}
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
        _dlt_load_id
    from source
)

select * from renamed
