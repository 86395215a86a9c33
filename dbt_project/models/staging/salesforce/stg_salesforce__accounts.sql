with

source as (
    select * from {{ source('crm', 'accounts') }}
),

renamed as (
    select
        -- ids
        id as account_id,
        parent_id as parent_account_id,
        -- strings
        name as account_name,
        billing_country,
        currency_iso_code as currency,
        -- booleans
        is_deleted,
        -- dates
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _dlt_load_id
    from source
)

select * from renamed
