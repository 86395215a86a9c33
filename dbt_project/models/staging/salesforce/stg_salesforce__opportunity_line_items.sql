with

source as (
    select * from {{ source('crm', 'opportunity_line_items') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='system_modstamp desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as opportunity_line_item_id,
        opportunity_id,
        -- strings
        product_code as role_code,
        name as line_name,
        {{ crm_currency('currency_iso_code') }} as currency,
        -- numerics
        cast(quantity as decimal(10, 2)) as quantity_hours,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(total_price as decimal(18, 2)) as total_price,
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
