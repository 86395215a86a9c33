with

source as (
    select * from {{ source('psa', 'expenses') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='updated_at desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as expense_id,
        user_id,
        client_id,
        project_id,
        expense_category_id,
        invoice_id as psa_invoice_id,
        -- strings
        expense_category_name,
        invoice_number,
        client_currency as currency,
        notes,
        -- numerics
        cast(total_cost as decimal(18, 2)) as total_cost,
        cast(units as decimal(10, 2)) as units,
        -- booleans
        is_closed as is_approved,
        is_locked,
        is_billed,
        billable as is_billable,
        -- dates
        spent_date,
        created_at,
        updated_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
