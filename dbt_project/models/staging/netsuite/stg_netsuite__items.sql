with

source as (
    select * from {{ source('erp', 'item') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as item_id,
        -- strings
        itemid as item_code,
        displayname as item_name,
        itemtype as item_type,
        -- booleans
        {{ netsuite_bool('isinactive') }} as is_inactive,
        -- dates
        lastmodifieddate as modified_at,
        _dlt_load_id
    from source
)

select * from renamed
