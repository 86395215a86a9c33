{#- Helpers of the reconciliation marts. Portable SQL; engine-specific pieces go through
    adapter.dispatch with a default that runs on DuckDB and Postgres. -#}

{#- The moment a run detects what it detects: var `detected_at` (a timestamp), else midnight
    UTC of the as-of date. Never the wall clock, so reruns and tests are deterministic. -#}
{% macro detected_at() -%}
    {%- set value = var('detected_at', '') | string | trim -%}
    {%- if value -%}
        cast('{{ value }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ as_of_date() }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- 'YYYY-MM' of a date, the period key every mart carries. -#}
{% macro year_month(date_expression) -%}
    {{ dbt.concat([
        "cast(extract(year from " ~ date_expression ~ ") as " ~ dbt.type_string() ~ ")",
        "'-'",
        "lpad(cast(extract(month from " ~ date_expression ~ ") as " ~ dbt.type_string() ~ "), 2, '0')",
    ]) }}
{%- endmacro %}

{#- The calendar date (UTC) of a timestamp with time zone, whatever the session's time zone. -#}
{% macro utc_date(column) -%}
    {{ return(adapter.dispatch('utc_date', 'q2c')(column)) }}
{%- endmacro %}

{#- DuckDB and Postgres: AT TIME ZONE on a timestamptz gives the naive local time there. -#}
{% macro default__utc_date(column) -%}
    cast(({{ column }} at time zone 'UTC') as date)
{%- endmacro %}

{% macro snowflake__utc_date(column) -%}
    cast(convert_timezone('UTC', {{ column }}) as date)
{%- endmacro %}

{% macro bigquery__utc_date(column) -%}
    date({{ column }}, 'UTC')
{%- endmacro %}

{#- True when `actual` differs from `expected` by more than max(pct % of the base, abs_amount):
    the base is |expected| (booking drift: |Amount|, the opportunity's), or with base='larger' the
    larger of |actual| and |expected| (reporting drift). Strictly greater: a difference equal to
    the limit is within tolerance. `pct` is in percent (0.5 = 0.5 %) and, like `abs_amount`, a
    number (a dbt var), rendered as an exact decimal literal. -#}
{% macro beyond_tolerance(actual, expected, pct, abs_amount, base='expected') -%}
    {%- set fraction = '%.10f' | format((pct | float) / 100) -%}
    {%- set floor_amount = '%.2f' | format(abs_amount | float) -%}
    {%- if base == 'larger' -%}
        {%- set base_expression = 'greatest(abs(' ~ actual ~ '), abs(' ~ expected ~ '))' -%}
    {%- else -%}
        {%- set base_expression = 'abs(' ~ expected ~ ')' -%}
    {%- endif -%}
    (abs(({{ actual }}) - ({{ expected }})) > greatest({{ fraction }} * {{ base_expression }}, {{ floor_amount }}))
{%- endmacro %}

{#- The aging bucket of an age in days: 0-30, 31-60, 61-90, 90+ (over 90). Limits: var `aging_bucket_limits`. -#}
{% macro aging_bucket(age_days) -%}
    {%- set limits = var('aging_bucket_limits', [30, 60, 90]) -%}
    case
        {%- set ns = namespace(lower=0) %}
        {%- for limit in limits %}
        when {{ age_days }} <= {{ limit }} then '{{ ns.lower }}-{{ limit }}'
        {%- set ns.lower = limit + 1 %}
        {%- endfor %}
        else '{{ limits[-1] }}+'
    end
{%- endmacro %}

{#- The median of a numeric expression (an aggregate). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'q2c')(expression)) }}
{%- endmacro %}

{#- Postgres, Snowflake, Redshift: the ordered-set aggregate. -#}
{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    quantile_cont({{ expression }}, 0.5)
{%- endmacro %}

{% macro bigquery__median(expression) -%}
    approx_quantiles({{ expression }}, 2)[offset(1)]
{%- endmacro %}
