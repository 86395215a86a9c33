with

source as (
    select * from {{ source('crm', 'opportunities') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='system_modstamp desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as opportunity_id,
        account_id,
        {{ crm_field('Opportunity.ContractId', 'contract_id') }} as contract_id,
        -- strings
        name as opportunity_name,
        stage_name,
        {{ crm_currency('currency_iso_code') }} as currency,
        -- numerics
        cast(amount as decimal(18, 2)) as amount,
        -- booleans
        is_closed,
        is_won,
        (coalesce(is_deleted, false) or _deleted_at is not null) as is_deleted,
        -- dates
        close_date,
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
