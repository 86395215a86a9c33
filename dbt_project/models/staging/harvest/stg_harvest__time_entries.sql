-- The largest table of all (a time entry a consultant-day): built incrementally. A build takes
-- the rows of every load after the last one it saw (loads are published whole, one at a time,
-- in load id order, before the build), plus every row flagged deleted, because a Harvest
-- delete sets `_deleted_at` on a row without a new load. A row gone from the raw table (a
-- landing file rebuilt from scratch) leaves staging too (the post-hook). `dbt build
-- --full-refresh` rebuilds it whole, to the same rows (tests/test_incremental.py).
{{
    config(
        materialized='incremental',
        unique_key='time_entry_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where time_entry_id not in "
            "(select id from {{ source('psa', 'time_entries') }} where id is not null)",
        ],
    )
}}

with

source as (
    select * from {{ source('psa', 'time_entries') }}
    {%- if is_incremental() %}
    -- dlt load ids are epoch seconds as text, ten integer digits: they sort as text
    where _dlt_load_id > (select coalesce(max(_dlt_load_id), '') from {{ this }})
        or _deleted_at is not null
    {%- endif %}
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
