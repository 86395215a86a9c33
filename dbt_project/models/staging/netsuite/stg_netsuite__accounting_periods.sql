with

source as (
    select * from {{ source('erp', 'accountingperiod') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as period_id,
        -- strings
        periodname as period_name,
        -- booleans
        {{ netsuite_bool('closed') }} as is_closed,
        {{ netsuite_bool('isquarter') }} as is_quarter,
        {{ netsuite_bool('isyear') }} as is_year,
        {{ netsuite_bool('isadjust') }} as is_adjustment,
        -- dates
        {{ netsuite_date('startdate') }} as start_date,
        {{ netsuite_date('enddate') }} as end_date,
        {{ netsuite_timestamp('closedondate') }} as closed_at,
        lastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
