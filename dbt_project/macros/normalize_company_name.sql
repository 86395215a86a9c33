{#- The customer-name rule of the duplicate-customer contract (simulator/firm/names.py `normalize`):
    lower-case; drop . , and '; every other run of non-alphanumerics becomes one space; trim;
    then strip trailing legal-suffix tokens, never the last remaining token (the pattern needs a
    space before each suffix). "Northwind-Analytics, L.L.C." -> "northwind analytics". -#}

{% macro legal_suffix_tokens() -%}
    {{ return(var('legal_suffix_tokens', ['inc', 'incorporated', 'corp', 'corporation', 'llc', 'ltd',
                                          'limited', 'plc', 'gmbh', 'ag', 'sa', 'bv'])) }}
{%- endmacro %}

{% macro normalize_company_name(column) -%}
    {{ return(adapter.dispatch('normalize_company_name', 'q2c')(column)) }}
{%- endmacro %}

{#- Postgres-style regexp_replace(string, pattern, replacement, flags): DuckDB and Postgres. -#}
{% macro default__normalize_company_name(column) -%}
    regexp_replace(
        trim(regexp_replace(regexp_replace(lower({{ column }}), '[.,'']', '', 'g'), '[^a-z0-9]+', ' ', 'g')),
        '( ({{ q2c.legal_suffix_tokens() | join("|") }}))+$',
        ''
    )
{%- endmacro %}

{#- Snowflake and BigQuery replace every match by default. -#}
{% macro snowflake__normalize_company_name(column) -%}
    regexp_replace(
        trim(regexp_replace(regexp_replace(lower({{ column }}), '[.,'']', ''), '[^a-z0-9]+', ' ')),
        '( ({{ q2c.legal_suffix_tokens() | join("|") }}))+$',
        ''
    )
{%- endmacro %}

{% macro bigquery__normalize_company_name(column) -%}
    regexp_replace(
        trim(regexp_replace(regexp_replace(lower({{ column }}), r"[.,']", ''), r'[^a-z0-9]+', ' ')),
        r'( ({{ q2c.legal_suffix_tokens() | join("|") }}))+$',
        ''
    )
{%- endmacro %}
