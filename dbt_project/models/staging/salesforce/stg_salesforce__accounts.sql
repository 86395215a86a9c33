with

source as (
    select * from {{ source('crm', 'accounts') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='system_modstamp desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as account_id,
        {{ crm_field('Account.ParentId', 'parent_id') }} as parent_account_id,
        -- strings
        name as account_name,
        billing_country,
        {{ crm_currency('currency_iso_code') }} as currency,
        -- booleans
        (coalesce(is_deleted, false) or _deleted_at is not null) as is_deleted,
        -- dates
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
