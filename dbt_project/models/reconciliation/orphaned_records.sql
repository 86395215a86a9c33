-- orphaned_records: source records that link to a record the warehouse does not hold, with the
-- reason. One row per child record and broken link. A parent the quarantine refused (a missing
-- key, a wrong type, an unknown currency) says why, from raw_<system>.quarantine; one never
-- synced, or deleted, says so. The children are kept everywhere else: their figures count,
-- and a link that does not resolve is left empty downstream (reported here, and by the
-- `links_to` warnings of the staging models).
--
-- The links are the `links_to` tests declared on the staging models (their YAML): a link is
-- declared once, and this mart follows it. dbt learns a model's upstreams when it parses it,
-- before the graph exists: the models the links join are named here (dbt refuses to compile
-- when a link names one that is not).
-- depends_on: {{ ref('stg_netsuite__accounting_periods') }}
-- depends_on: {{ ref('stg_netsuite__consolidated_exchange_rates') }}
-- depends_on: {{ ref('stg_netsuite__currencies') }}
-- depends_on: {{ ref('stg_netsuite__customers') }}
-- depends_on: {{ ref('stg_netsuite__items') }}
-- depends_on: {{ ref('stg_netsuite__subsidiaries') }}
-- depends_on: {{ ref('stg_netsuite__tax_codes') }}
-- depends_on: {{ ref('stg_netsuite__transaction_lines') }}
-- depends_on: {{ ref('stg_netsuite__transaction_links') }}
-- depends_on: {{ ref('stg_netsuite__transactions') }}
-- depends_on: {{ ref('stg_harvest__clients') }}
-- depends_on: {{ ref('stg_harvest__expenses') }}
-- depends_on: {{ ref('stg_harvest__projects') }}
-- depends_on: {{ ref('stg_harvest__tasks') }}
-- depends_on: {{ ref('stg_harvest__time_entries') }}
-- depends_on: {{ ref('stg_harvest__users') }}
-- depends_on: {{ ref('stg_salesforce__accounts') }}
-- depends_on: {{ ref('stg_salesforce__contracts') }}
-- depends_on: {{ ref('stg_salesforce__opportunities') }}
-- depends_on: {{ ref('stg_salesforce__opportunity_line_items') }}
-- depends_on: {{ ref('lookup_offices') }}
-- depends_on: {{ ref('lookup_roles') }}
{%- set links = [] -%}
{%- if execute -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test'
        and (test.test_metadata or {}).get('name') == 'links_to'
        and test.attached_node.split('.')[-1].startswith('stg_') -%}
        {%- set child = graph.nodes[test.attached_node] -%}
        {#- a link to the same model (a parent account) depends on nothing else -#}
        {%- set others = test.depends_on.nodes | reject('equalto', test.attached_node) | list -%}
        {%- set parent = graph.nodes[(others or [test.attached_node])[0]] -%}
        {%- set key = [] -%}
        {%- for other in graph.nodes.values()
            if other.resource_type == 'test' and other.attached_node == test.attached_node -%}
            {%- set kind = (other.test_metadata or {}).get('name') -%}
            {%- if kind == 'unique' and not key -%}
                {%- do key.append(other.column_name) -%}
            {%- elif kind == 'unique_combination' and not key -%}
                {%- do key.extend(other.test_metadata.kwargs.combination) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set key_sql = [] -%}
        {%- for column in key -%}
            {%- do key_sql.append('cast(child.' ~ column ~ ' as varchar)') -%}
        {%- endfor -%}
        {%- set child_sources = [] -%}
        {%- for node in child.depends_on.nodes if node.startswith('source.') -%}
            {%- do child_sources.append(node) -%}
        {%- endfor -%}
        {%- set parent_sources = [] -%}
        {%- for node in parent.depends_on.nodes if node.startswith('source.') and parent.resource_type == 'model' -%}
            {%- do parent_sources.append(node) -%}
        {%- endfor -%}
        {%- do links.append({
            'child': child.name,
            'key_sql': key_sql | join(" || '|' || ") if key_sql else 'cast(null as varchar)',
            'column': test.column_name,
            'parent': parent.name,
            'field': test.test_metadata.kwargs.field,
            'system': graph.sources[child_sources[0]].source_name,
            'parent_system': graph.sources[parent_sources[0]].source_name if parent_sources else none,
            'parent_resource': graph.sources[parent_sources[0]].name if parent_sources else none,
        }) -%}
    {%- endfor -%}
{%- endif %}

with

{% for system in ['crm', 'psa', 'erp'] -%}
quarantine_{{ system }} as (
    select resource, record_id, min(reason) as reason
    from {{ source(system, 'quarantine') }}
    where record_id is not null
    group by resource, record_id
),

{% endfor -%}

links as (
    {%- for link in links | sort(attribute='child') %}
    select
        '{{ link.system }}' as source_system,
        {{ link.key_sql }} as source_record_id,
        '{{ link.child }}' as child_model,
        '{{ link.column }}' as link_column,
        '{{ link.parent }}' as parent_model,
        cast(child.{{ link.column }} as varchar) as parent_id,
        {% if link.parent_system -%}
        coalesce(
            'refused by the quarantine: ' || quarantined.reason,
            'not in {{ link.parent }}: never synced from {{ link.parent_system }}, or deleted there'
        )
        {%- else -%}
        'not in the lookup {{ link.parent }}'
        {%- endif %} as reason
    from {{ ref(link.child) }} as child
    left join {{ ref(link.parent) }} as parent
        on child.{{ link.column }} = parent.{{ link.field }}
    {% if link.parent_system -%}
    left join quarantine_{{ link.parent_system }} as quarantined
        on quarantined.resource = '{{ link.parent_resource }}'
        and quarantined.record_id = cast(child.{{ link.column }} as varchar)
    {% endif -%}
    where child.{{ link.column }} is not null
        and parent.{{ link.field }} is null
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
    {%- if not links %}
    select
        cast(null as varchar) as source_system,
        cast(null as varchar) as source_record_id,
        cast(null as varchar) as child_model,
        cast(null as varchar) as link_column,
        cast(null as varchar) as parent_model,
        cast(null as varchar) as parent_id,
        cast(null as varchar) as reason
    where false
    {%- endif %}
)

select * from links
