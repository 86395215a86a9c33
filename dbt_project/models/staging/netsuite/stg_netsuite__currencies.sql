with

source as (
    select * from {{ source('erp', 'currency') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as currency_id,
        -- strings
        symbol as currency,
        name as currency_name,
        -- booleans
        {{ netsuite_bool('isbasecurrency') }} as is_base_currency,
        -- dates
        lastmodifieddate as modified_at,
        _dlt_load_id
    from source
)

select * from renamed
