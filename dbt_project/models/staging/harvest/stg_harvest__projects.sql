with

source as (
    select * from {{ source('psa', 'projects') }}
),

renamed as (
    select
        -- ids
        id as project_id,
        client_id,
        nullif(trim(code), '') as opportunity_id,
        -- strings
        name as project_name,
        client_name,
        client_currency as currency,
        bill_by,
        budget_by,
        notes,
        case when is_fixed_fee then 'fixed_fee' else 'time_and_materials' end as billing_method,
        -- numerics
        cast(budget as decimal(18, 2)) as budget,
        cast(fee as decimal(18, 2)) as fee,
        cast(hourly_rate as decimal(18, 2)) as hourly_rate,
        -- booleans
        is_active,
        is_billable,
        is_fixed_fee,
        -- dates
        starts_on,
        ends_on,
        created_at,
        updated_at,
        _dlt_load_id
    from source
)

select * from renamed
