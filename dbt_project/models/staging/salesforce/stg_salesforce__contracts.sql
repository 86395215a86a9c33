with

source as (
    select * from {{ source('crm', 'contracts') }}
),

renamed as (
    select
        -- ids
        id as contract_id,
        account_id,
        -- strings
        contract_number,
        status as contract_status,
        -- booleans
        is_deleted,
        -- dates
        start_date,
        end_date,
        activated_date as activated_at,
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _dlt_load_id
    from source
)

select * from renamed
