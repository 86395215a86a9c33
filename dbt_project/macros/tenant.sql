{#- The tenant profile (pipelines/tenants/<firm>.yml) as the models read it: dbt vars `q2c_*`,
    which q2c passes to every dbt command (pipelines/defs/transform/dbt.py). While dbt parses,
    a var it was not given reads as none; a command run without them stops with dbt's
    "Required var 'q2c_...' not found". -#}

{#- The column of a NetSuite custom field the profile names (erp_fields.<role>), quoted. -#}
{% macro erp_field(role) -%}
    {%- set fields = var('q2c_erp_fields') or {} -%}
    {%- set name = fields.get(role) -%}
    {{- adapter.quote(name) if name else 'null' -}}
{%- endmacro %}

{#- A SQL string literal of a profile value. -#}
{% macro tenant_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- A list of profile values as `(v1, v2, ...)` for `in`; `(null)` when it is empty. -#}
{% macro tenant_list(values) -%}
    ({%- for value in (values or []) -%}{{ tenant_literal(value) }}{{ ', ' if not loop.last }}{%- else -%}null{%- endfor -%})
{%- endmacro %}

{#- The rows of a profile mapping (a list of lists) as a relation of text columns. -#}
{% macro tenant_rows(rows, columns) -%}
    {%- set rows = rows or [] -%}
    {%- if rows | length == 0 %}
    select
        {%- for column in columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- else -%}
    {%- for row in rows %}
    select
        {%- for column in columns %}
        cast({{ tenant_literal(row[loop.index0]) }} as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#- The legal entity a consultant's time counts for (profile: links.consultant_entity): their home
    office's (`resources`) or, in a firm that staffs across entities, the entity of the customer
    the project serves (`time_entries`, canonical.time_entries.legal_entity_id). -#}
{% macro time_entity(time_entries='time_entries', resources='resources') -%}
    {%- if var('q2c_consultant_entity') == 'project_customer' -%}
    {{ time_entries }}.legal_entity_id
    {%- else -%}
    {{ resources }}.legal_entity_id
    {%- endif -%}
{%- endmacro %}

{#- Whether an item (its itemid) bills a fixed fee or a milestone (profile: fixed_fee_items). -#}
{% macro is_fixed_fee_item(column) -%}
    {%- set items = var('q2c_fixed_fee_items') or [] -%}
    {%- if items | length == 0 -%}
    false
    {%- else -%}
    ({{ column }} in {{ tenant_list(items) }})
    {%- endif -%}
{%- endmacro %}

{#- A Salesforce standard field (`Object.Field`) the org may not have (profile:
    crm.absent_fields): its column, or null when the profile declares it absent. -#}
{% macro crm_field(field, column) -%}
    {%- if field in (var('q2c_crm_absent_fields') or []) -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- A record's currency in Salesforce: its CurrencyIsoCode, or the org's one currency when
    multi-currency is off (profile: crm.currency). -#}
{% macro crm_currency(column) -%}
    {%- if var('q2c_crm_currency') -%}
    cast({{ tenant_literal(var('q2c_crm_currency')) }} as {{ dbt.type_string() }})
    {%- else -%}
    {{ column }}
    {%- endif -%}
{%- endmacro %}
