{#- Keep one row per key: the latest version by `order_by` (e.g. 'system_modstamp desc, _dlt_load_id desc').
    Portable SQL: row_number() in a subquery, no `qualify`. The helper column `_dedup_row_number`
    comes along with `*`; staging models list their columns explicitly, so it never leaves them. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate', 'q2c')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__deduplicate(relation, partition_by, order_by) -%}
    select *
    from (
        select
            dedup_source.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as _dedup_row_number
        from {{ relation }} as dedup_source
    ) as dedup_ranked
    where _dedup_row_number = 1
{%- endmacro %}
