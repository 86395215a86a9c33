{#- Every non-null `column_name` is a `field` of `to`. A link the data breaks (its parent was
    refused by the quarantine, deleted, or never synced) warns instead of stopping the build:
    the child is kept, and reconciliation.orphaned_records lists it with the parent and the
    reason it is missing. Set severity error where a broken link can only be q2c's own bug. -#}
{% test links_to(model, column_name, to, field) %}
{{ config(severity='warn') }}

select child.{{ column_name }} as dangling_link
from {{ model }} as child
left join {{ to }} as parent
    on child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null
    and parent.{{ field }} is null

{% endtest %}
