-- One row per PSA project: how it bills and which deal it delivers.
with

projects as (
    select * from {{ ref('stg_harvest__projects') }}
),

final as (
    select
        project_id,
        opportunity_id,
        client_id,
        project_name,
        client_name,
        billing_method,
        is_billable,
        is_active,
        currency,
        budget,
        fee,
        starts_on,
        ends_on,
        created_at,
        updated_at,
        'psa' as source_system,
        cast(project_id as varchar) as source_record_id
    from projects
)

select * from final
