with

source as (
    select * from {{ source('erp', 'previoustransactionlinelink') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='previousdoc, nextdoc', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(previousdoc as integer) as previous_transaction_id,
        cast(previousline as integer) as previous_line_number,
        cast(nextdoc as integer) as next_transaction_id,
        cast(nextline as integer) as next_line_number,
        -- strings
        linktype as link_type,
        -- numerics
        {{ netsuite_money('foreignamount') }} as amount,
        -- dates
        lastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
