with

source as (
    select * from {{ source('erp', 'currency') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
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
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
