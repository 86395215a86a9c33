with

source as (
    select * from {{ source('psa', 'clients') }}
),

renamed as (
    select
        -- ids
        id as client_id,
        -- strings
        name as client_name,
        address,
        currency,
        -- booleans
        is_active,
        -- dates
        created_at,
        updated_at,
        _dlt_load_id
    from source
)

select * from renamed
