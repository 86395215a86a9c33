{#- Source vocabulary the tenant profile does not map: the distinct values of `column_name` that
    are not a `field` of `to` (with `to`), or that are not null (without: a column that lists what
    was left unmapped). One failing row per value, so the warning counts the words to add to the
    profile, not the records that use them. A warning, never a reason to stop the build. -#}
{% test unmapped_values(model, column_name, to=none, field=none) %}
{{ config(severity='warn') }}

select distinct child.{{ column_name }} as unmapped_value
from {{ model }} as child
{%- if to is not none %}
left join {{ to }} as vocabulary
    on child.{{ column_name }} = vocabulary.{{ field }}
where child.{{ column_name }} is not null
    and vocabulary.{{ field }} is null
{%- else %}
where child.{{ column_name }} is not null
{%- endif %}

{% endtest %}
