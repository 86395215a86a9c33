{#- The columns together identify a row (a composite key). -#}
{% test unique_combination(model, combination) %}

select
    {{ combination | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1

{% endtest %}
