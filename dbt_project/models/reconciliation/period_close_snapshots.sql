-- The frozen month-end figures: the first run that sees an ERP period closed inserts that period's
-- figures per legal entity (int_reconciliation__period_figures) and never touches them again.
-- Later runs compare the recomputed figures with these (reporting_drift, reason
-- `frozen_figures_changed`). Append-only; `full_refresh: false` keeps a `dbt build --full-refresh`
-- from erasing what was frozen.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

with

figures as (
    select * from {{ ref('int_reconciliation__period_figures') }}
    where is_closed
),

{% if is_incremental() %}
already_frozen as (
    select
        period_id,
        legal_entity_id
    from {{ this }}
),
{% endif %}

final as (
    select
        figures.period_entity_key,
        figures.period_id,
        figures.period,
        figures.legal_entity_id,
        figures.legal_entity,
        figures.functional_currency,
        figures.closed_at,
        {{ detected_at() }} as frozen_at,
        figures.psa_billed_value,
        figures.erp_invoiced_value,
        figures.approved_billable_hours,
        figures.approved_billable_value,
        figures.invoiced_amount,
        figures.bookings_value,
        figures.sales_order_value
    from figures
    {% if is_incremental() %}
    where not exists (
        select 1
        from already_frozen
        where already_frozen.period_id = figures.period_id
            and already_frozen.legal_entity_id = figures.legal_entity_id
    )
    {% endif %}
)

select * from final
