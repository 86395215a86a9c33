with

source as (
    select * from {{ source('erp', 'deletedrecord') }}
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
    from source
)

select * from renamed
