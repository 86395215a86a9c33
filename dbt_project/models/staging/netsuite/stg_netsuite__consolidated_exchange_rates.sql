with

source as (
    select * from {{ source('erp', 'consolidatedexchangerate') }}
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
        _dlt_load_id
    from source
)

select * from renamed
