with

source as (
    select * from {{ source('erp', 'deletedrecord') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='recordid, type', order_by='deleteddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(recordid as integer) as record_id,
        -- strings
        type as record_type,
        name as record_name,
        -- dates
        deleteddate as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
