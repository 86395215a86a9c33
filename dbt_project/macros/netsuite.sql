{#- NetSuite's SuiteQL REST sends every value as text: these read it back. Dates and datetimes
    come in ISO form, because q2c's queries ask for them with TO_CHAR (ingest/erp/objects.py):
    NetSuite's own rendering follows the account's date preference (M/D/YYYY, D/M/YYYY, ...). -#}

{% macro netsuite_bool(column) -%}
    ({{ column }} = 'T')
{%- endmacro %}

{% macro netsuite_date(column) -%}
    {{ return(adapter.dispatch('netsuite_date', 'q2c')(column)) }}
{%- endmacro %}

{% macro default__netsuite_date(column) -%}
    cast(strptime({{ column }}, '%Y-%m-%d') as date)
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
