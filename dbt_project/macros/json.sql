{#- A JSON array of strings held as text, as the engine's list of text (for unnest). -#}
{% macro json_text_array(column) -%}
    {{ return(adapter.dispatch('json_text_array', 'q2c')(column)) }}
{%- endmacro %}

{% macro duckdb__json_text_array(column) -%}
    from_json({{ column }}, '["VARCHAR"]')
{%- endmacro %}
