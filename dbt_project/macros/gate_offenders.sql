{#- The rows a reconciliation gate counts: one per offending record of its mart (rows where
    `blocking` holds), with the columns its GX suite checks and the gate's measure
    (`gate_amount_reporting`: the offenders' absolute amount in the reporting currency, the
    same on every row). -#}
{% macro gate_offenders(mart, blocking='true') -%}
select
    source_record_id,
    period,
    legal_entity_id,
    currency,
    amount,
    reporting_currency,
    amount_reporting,
    cast(coalesce(sum(abs(amount_reporting)) over (), 0) as decimal(18, 2)) as gate_amount_reporting
from {{ mart }}
where {{ blocking }}
{%- endmacro %}
