with

source as (
    select * from {{ source('crm', 'opportunities') }}
),

renamed as (
    select
        -- ids
        id as opportunity_id,
        account_id,
        contract_id,
        -- strings
        name as opportunity_name,
        stage_name,
        currency_iso_code as currency,
        -- numerics
        cast(amount as decimal(18, 2)) as amount,
        -- booleans
        is_closed,
        is_won,
        is_deleted,
        -- dates
        close_date,
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _dlt_load_id
    from source
)

select * from renamed
