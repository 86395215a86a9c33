{#- Schemas are named exactly as configured (staging, canonical, reconciliation, ...), with no
    target prefix, so analysts and tools can rely on `canonical.*` and `reconciliation.*`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
