with

source as (
    select * from {{ source('psa', 'projects') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='updated_at desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as project_id,
        client_id,
        -- the Salesforce deal the project delivers, where the profile says the firm records it
        -- (links.project_deal: the project code, or a pattern in the project's name)
        {%- if var('q2c_project_deal_link') == 'project_name' %}
        nullif(regexp_extract(name, {{ tenant_literal(var('q2c_project_deal_pattern')) }}, {{ var('q2c_project_deal_group') }}), '') as opportunity_id,
        {%- else %}
        nullif(trim(code), '') as opportunity_id,
        {%- endif %}
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
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
