with

source as (
    select * from {{ source('erp', 'consolidatedexchangerate') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as exchange_rate_id,
        cast(postingperiod as integer) as period_id,
        cast(fromsubsidiary as integer) as from_subsidiary_id,
        cast(tosubsidiary as integer) as to_subsidiary_id,
        cast(fromcurrency as integer) as from_currency_id,
        cast(tocurrency as integer) as to_currency_id,
        -- numerics
        cast(averagerate as decimal(18, 6)) as average_rate,
        cast(currentrate as decimal(18, 6)) as current_rate,
        cast(historicalrate as decimal(18, 6)) as historical_rate,
        -- dates
        lastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
