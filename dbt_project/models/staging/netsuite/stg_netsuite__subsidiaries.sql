with

source as (
    select * from {{ source('erp', 'subsidiary') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
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
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
