with

source as (
    select * from {{ source('erp', 'subsidiary') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as subsidiary_id,
        cast(parent as integer) as parent_subsidiary_id,
        cast(currency as integer) as currency_id,
        -- strings
        name as subsidiary_name,
        country,
        -- booleans
        {{ netsuite_bool('iselimination') }} as is_elimination,
        -- dates
        lastmodifieddate as modified_at,
        _dlt_load_id
    from source
)

select * from renamed
