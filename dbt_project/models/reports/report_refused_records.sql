-- What the syncs refused and what it left without a parent, by source system and resource: the
-- records each source's last successful load quarantined (raw_<system>.quarantine), and the
-- records held that link to a missing parent (reconciliation.orphaned_records), with a reason.
-- Not per report period: the warehouse as it is.
with

{% for system in ['crm', 'psa', 'erp'] -%}
last_load_{{ system }} as (
    select max(load_id) as load_id
    from {{ source(system ~ '_loads', '_dlt_loads') }}
    where status = 0
),

{% endfor -%}

refused as (
    {%- for system in ['crm', 'psa', 'erp'] %}
    select
        '{{ system }}' as source_system,
        quarantined.resource,
        'refused by the last load' as what,
        count(*) as record_count,
        min(quarantined.reason) as example_reason
    from {{ source(system, 'quarantine') }} as quarantined
    inner join last_load_{{ system }} as last_load
        on quarantined._dlt_load_id = last_load.load_id
    group by quarantined.resource
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
),

orphaned as (
    select
        source_system,
        child_model as resource,
        'linked to a missing parent' as what,
        count(*) as record_count,
        min(parent_model || ' ' || parent_id || ': ' || reason) as example_reason
    from {{ ref('orphaned_records') }}
    group by source_system, child_model
),

final as (
    select
        cast(row_number() over (order by what desc, source_system, resource) as integer) as row_order,
        cast(source_system as varchar) as source_system,
        cast(resource as varchar) as resource,
        cast(what as varchar) as what,
        cast(record_count as integer) as record_count,
        cast(example_reason as varchar) as example_reason
    from (
        select * from refused
        union all
        select * from orphaned
    ) as both_kinds
)

select * from final
