with

source as (
    select * from {{ source('erp', 'salestaxitem') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as tax_code_id,
        -- strings
        itemid as tax_code,
        name as tax_code_name,
        country,
        description,
        -- numerics
        cast(rate as decimal(9, 4)) as tax_rate_percent,
        -- booleans
        {{ netsuite_bool('isinactive') }} as is_inactive,
        -- dates
        lastmodifieddate as modified_at,
        _dlt_load_id
    from source
)

select * from renamed
