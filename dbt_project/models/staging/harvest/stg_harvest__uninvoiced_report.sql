with

source as (
    select * from {{ source('psa', 'uninvoiced_report') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='project_id', order_by='_dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        project_id,
        client_id,
        -- strings
        project_name,
        client_name,
        currency,
        -- numerics
        cast(total_hours as decimal(12, 2)) as total_hours,
        cast(uninvoiced_hours as decimal(12, 2)) as uninvoiced_hours,
        cast(uninvoiced_expenses as decimal(18, 2)) as uninvoiced_expenses,
        cast(uninvoiced_amount as decimal(18, 2)) as uninvoiced_amount,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
