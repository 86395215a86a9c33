with

source as (
    select * from {{ source('erp', 'item') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
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
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
