with

source as (
    select * from {{ source('erp', 'previoustransactionlinelink') }}
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
        _dlt_load_id
    from source
)

select * from renamed
