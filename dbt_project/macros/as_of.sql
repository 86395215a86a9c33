{#- The reconciliation's as-of date: var `as_of_date` (unit tests set it), else the
    environment's Q2C_AS_OF_DATE (the pipeline pins it for each build), else today.

    Not a --vars on the command line, nor a var of dbt_project.yml: either changes every day
    and makes dbt re-parse the whole project; an env_var read here re-parses only the files
    that call this macro. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', '') | string | trim or env_var('Q2C_AS_OF_DATE', '') | trim -%}
    {%- if value -%}
        cast('{{ value }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
