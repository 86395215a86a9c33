with

source as (
    select * from {{ source('psa', 'uninvoiced_report') }}
),

renamed as (
    select
        -- ids
        project_id,
        client_id,
        -- strings
        project_name,
        client_name,
        currency,
        -- numerics
        cast(total_hours as decimal(12, 2)) as total_hours,
        cast(uninvoiced_hours as decimal(12, 2)) as uninvoiced_hours,
        cast(uninvoiced_expenses as decimal(18, 2)) as uninvoiced_expenses,
        cast(uninvoiced_amount as decimal(18, 2)) as uninvoiced_amount,
        _dlt_load_id
    from source
)

select * from renamed
