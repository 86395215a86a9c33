{#- NetSuite's SuiteQL REST sends every value as text: these read it back. -#}

{% macro netsuite_bool(column) -%}
    ({{ column }} = 'T')
{%- endmacro %}

{% macro netsuite_date(column) -%}
    {{ return(adapter.dispatch('netsuite_date', 'q2c')(column)) }}
{%- endmacro %}

{% macro default__netsuite_date(column) -%}
    cast(strptime({{ column }}, '%m/%d/%Y') as date)
{%- endmacro %}

{% macro netsuite_timestamp(column) -%}
    {{ return(adapter.dispatch('netsuite_timestamp', 'q2c')(column)) }}
{%- endmacro %}

{% macro default__netsuite_timestamp(column) -%}
    cast(strptime({{ column }}, '%Y-%m-%d %H:%M:%S') as timestamp)
{%- endmacro %}

{% macro netsuite_money(column) -%}
    cast({{ column }} as decimal(18, 2))
{%- endmacro %}
