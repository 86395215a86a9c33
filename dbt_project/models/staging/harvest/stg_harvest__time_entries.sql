with

source as (
    select * from {{ source('psa', 'time_entries') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='updated_at desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as time_entry_id,
        user_id,
        client_id,
        project_id,
        task_id,
        invoice_id as psa_invoice_id,
        -- strings
        user_name,
        client_name,
        project_name,
        project_code,
        task_name,
        invoice_number,
        client_currency as currency,
        notes,
        locked_reason,
        -- numerics
        cast(hours as decimal(10, 2)) as hours,
        cast(rounded_hours as decimal(10, 2)) as rounded_hours,
        cast(billable_rate as decimal(18, 2)) as billable_rate,
        cast(cost_rate as decimal(18, 2)) as cost_rate,
        -- booleans
        is_closed as is_approved,
        is_locked,
        is_billed,
        is_running,
        billable as is_billable,
        budgeted as is_budgeted,
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
