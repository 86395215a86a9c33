{#- The `index`-th element (0-based) of a JSON array held as text, as text. -#}
{% macro json_array_text_element(column, index) -%}
    {{ return(adapter.dispatch('json_array_text_element', 'q2c')(column, index)) }}
{%- endmacro %}

{#- SQL:2016 JSON_VALUE (Postgres 17, BigQuery, SQL Server, Oracle, MySQL). -#}
{% macro default__json_array_text_element(column, index) -%}
    json_value({{ column }}, '$[{{ index }}]')
{%- endmacro %}

{% macro duckdb__json_array_text_element(column, index) -%}
    json_extract_string({{ column }}, '$[{{ index }}]')
{%- endmacro %}

{% macro snowflake__json_array_text_element(column, index) -%}
    parse_json({{ column }})[{{ index }}]::varchar
{%- endmacro %}

{#- A JSON array of strings held as text, as the engine's list of text (for unnest). -#}
{% macro json_text_array(column) -%}
    {{ return(adapter.dispatch('json_text_array', 'q2c')(column)) }}
{%- endmacro %}

{% macro duckdb__json_text_array(column) -%}
    from_json({{ column }}, '["VARCHAR"]')
{%- endmacro %}
