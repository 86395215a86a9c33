{#- A timestamp without time zone that is known to be UTC (NetSuite's text timestamps), as a
    timestamp with time zone, whatever the session's time zone. -#}
{% macro as_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('as_utc_timestamp', 'q2c')(column)) }}
{%- endmacro %}

{#- Postgres and DuckDB: AT TIME ZONE on a naive timestamp reads it in that zone. -#}
{% macro default__as_utc_timestamp(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{% macro snowflake__as_utc_timestamp(column) -%}
    convert_timezone('UTC', {{ column }})::timestamp_tz
{%- endmacro %}

{% macro bigquery__as_utc_timestamp(column) -%}
    timestamp({{ column }}, 'UTC')
{%- endmacro %}
