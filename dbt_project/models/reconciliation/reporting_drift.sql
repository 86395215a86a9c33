-- reporting_drift (warehouse, 'YYYY-MM|<legal entity id>'): a period and legal entity whose
-- month-end figures moved or disagree. One row per period, entity and reason; amounts in the
-- entity's functional currency. Reasons:
--   contract reasons (they make the `reporting_drift` exceptions):
--     psa_billed_vs_erp_invoiced (b): PSA billed value and ERP invoiced value of the period
--       (int_reconciliation__period_figures) differ by more than
--       max(`drift_tolerance_pct` % of the larger, `drift_tolerance_abs`) (0.5 %, 1.00);
--       amount = PSA - ERP;
--     time_entry_created_after_close (a1) and invoice_line_modified_after_close (a2): records that
--       changed the closed period after its close (int_reconciliation__closed_period_changes);
--       amount = their value;
--   further reasons, reported here but not raised as exceptions (they are not in the contract and
--   can flag periods the contract does not, e.g. a re-scoped deal, or a deleted PSA project):
--     bookings_vs_sales_orders: CRM bookings and ERP sales orders of the period differ beyond the
--       same tolerance; amount = bookings - sales orders;
--     billed_time_without_invoice: billed time no ERP invoice carries (it counts in the PSA value
--       where it was worked; billed_time_missing_invoice lists the entries); amount = its value;
--     invoice_without_billed_time: invoiced lines (fixed fee aside) of invoices no billed time
--       names, so the ERP value holds them with nothing to compare; amount = their value;
--     billed_on_credited_invoice: billed time whose invoice was credited in full and not rebilled
--       (it counts on neither side); amount = its value;
--     frozen_figures_changed: a figure frozen when the warehouse first saw the period closed
--       (period_close_snapshots) differs from its recomputed value; amount = the change of the
--       first changed figure (invoiced, approved billable value, PSA billed, bookings, sales
--       orders), `details` names every changed figure.
with

figures as (
    select * from {{ ref('int_reconciliation__period_figures') }}
),

changes as (
    select * from {{ ref('int_reconciliation__closed_period_changes') }}
),

frozen as (
    select * from {{ ref('period_close_snapshots') }}
),

psa_vs_erp as (
    select
        figures.period_id,
        figures.legal_entity_id,
        'psa_billed_vs_erp_invoiced' as reason,
        cast(figures.psa_billed_value - figures.erp_invoiced_value as {{ money_type() }}) as amount,
        cast(null as integer) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_changed_at,
        figures.end_date as occurred_on,
        {{ dbt.concat([
            "'PSA billed '",
            "cast(figures.psa_billed_value as " ~ dbt.type_string() ~ ")",
            "' vs ERP invoiced '",
            "cast(figures.erp_invoiced_value as " ~ dbt.type_string() ~ ")",
            "' '",
            "figures.functional_currency",
        ]) }} as details
    from figures
    where {{ beyond_tolerance('figures.psa_billed_value', 'figures.erp_invoiced_value', var('drift_tolerance_pct'), var('drift_tolerance_abs'), base='larger') }}
),

closed_period_changes as (
    select
        changes.period_id,
        changes.legal_entity_id,
        changes.change_type as reason,
        cast(sum(changes.amount_functional) as {{ money_type() }}) as amount,
        cast(count(*) as integer) as record_count,
        min(changes.changed_at) as first_changed_at,
        {{ utc_date('min(changes.changed_at)') }} as occurred_on,
        {{ dbt.concat([
            "cast(count(*) as " ~ dbt.type_string() ~ ")",
            "case when min(changes.source_system) = 'psa' then ' time entries created' else ' invoice lines modified' end",
            "' after the period closed, e.g. '",
            "min(changes.source_record_id)",
        ]) }} as details
    from changes
    group by
        changes.period_id,
        changes.legal_entity_id,
        changes.change_type
),

bookings_vs_sales_orders as (
    select
        figures.period_id,
        figures.legal_entity_id,
        'bookings_vs_sales_orders' as reason,
        cast(figures.bookings_value - figures.sales_order_value as {{ money_type() }}) as amount,
        cast(null as integer) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_changed_at,
        figures.end_date as occurred_on,
        {{ dbt.concat([
            "'CRM bookings '",
            "cast(figures.bookings_value as " ~ dbt.type_string() ~ ")",
            "' vs ERP sales orders '",
            "cast(figures.sales_order_value as " ~ dbt.type_string() ~ ")",
            "' '",
            "figures.functional_currency",
        ]) }} as details
    from figures
    where {{ beyond_tolerance('figures.bookings_value', 'figures.sales_order_value', var('drift_tolerance_pct'), var('drift_tolerance_abs'), base='larger') }}
),

-- the parts of the PSA and ERP values that no pairing of billed time and invoice explains
{%- set unpaired_reasons = [
    ('billed_time_without_invoice', 'psa_unpaired_billed_value', 'PSA billed ', ' on invoices the ERP does not have '),
    ('invoice_without_billed_time', 'erp_unpaired_invoiced_value', 'ERP invoiced ', ' on invoices no billed time names '),
    ('billed_on_credited_invoice', 'psa_credited_billed_value', 'PSA billed ', ' on invoices credited in full, not rebilled '),
] %}
unpaired as (
    {%- for reason, figure, before, after in unpaired_reasons %}
    select
        figures.period_id,
        figures.legal_entity_id,
        '{{ reason }}' as reason,
        figures.{{ figure }} as amount,
        cast(null as integer) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_changed_at,
        figures.end_date as occurred_on,
        {{ dbt.concat([
            "'" ~ before ~ "'",
            "cast(figures." ~ figure ~ " as " ~ dbt.type_string() ~ ")",
            "'" ~ after ~ "'",
            "figures.functional_currency",
        ]) }} as details
    from figures
    where figures.{{ figure }} <> 0
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

frozen_compared as (
    select
        figures.period_id,
        figures.legal_entity_id,
        figures.invoiced_amount - frozen.invoiced_amount as invoiced_change,
        figures.approved_billable_value - frozen.approved_billable_value as approved_value_change,
        figures.approved_billable_hours - frozen.approved_billable_hours as approved_hours_change,
        figures.psa_billed_value - frozen.psa_billed_value as psa_billed_change,
        figures.erp_invoiced_value - frozen.erp_invoiced_value as erp_invoiced_change,
        figures.bookings_value - frozen.bookings_value as bookings_change,
        figures.sales_order_value - frozen.sales_order_value as sales_order_change,
        frozen.frozen_at
    from figures
    inner join frozen
        on figures.period_id = frozen.period_id
        and figures.legal_entity_id = frozen.legal_entity_id
),

frozen_figures_changed as (
    select
        period_id,
        legal_entity_id,
        'frozen_figures_changed' as reason,
        cast(
            case
                when invoiced_change <> 0 then invoiced_change
                when approved_value_change <> 0 then approved_value_change
                when psa_billed_change <> 0 then psa_billed_change
                when bookings_change <> 0 then bookings_change
                else sales_order_change
            end
            as {{ money_type() }}
        ) as amount,
        cast(null as integer) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_changed_at,
        cast({{ detected_at() }} as date) as occurred_on,
        {{ dbt.concat([
            "'changed since frozen on '",
            "cast(cast(frozen_at as date) as " ~ dbt.type_string() ~ ")",
            "':'",
            "case when invoiced_change <> 0 then ' invoiced' else '' end",
            "case when erp_invoiced_change <> 0 then ' erp_invoiced' else '' end",
            "case when approved_hours_change <> 0 then ' approved_hours' else '' end",
            "case when approved_value_change <> 0 then ' approved_value' else '' end",
            "case when psa_billed_change <> 0 then ' psa_billed' else '' end",
            "case when bookings_change <> 0 then ' bookings' else '' end",
            "case when sales_order_change <> 0 then ' sales_orders' else '' end",
        ]) }} as details
    from frozen_compared
    where invoiced_change <> 0
        or erp_invoiced_change <> 0
        or approved_hours_change <> 0
        or approved_value_change <> 0
        or psa_billed_change <> 0
        or bookings_change <> 0
        or sales_order_change <> 0
),

reasons as (
    select * from psa_vs_erp
    union all
    select * from closed_period_changes
    union all
    select * from bookings_vs_sales_orders
    union all
    select * from unpaired
    union all
    select * from frozen_figures_changed
),

final as (
    select
        'reporting_drift' as exception_type,
        'warehouse' as source_system,
        figures.period_entity_key as source_record_id,
        reasons.reason,
        reasons.reason in (
            'psa_billed_vs_erp_invoiced',
            'time_entry_created_after_close',
            'invoice_line_modified_after_close'
        ) as is_contract_reason,
        figures.period,
        figures.period_id,
        figures.is_closed as is_period_closed,
        figures.closed_at as period_closed_at,
        figures.legal_entity_id,
        figures.legal_entity,
        figures.psa_billed_value,
        figures.erp_invoiced_value,
        figures.bookings_value,
        figures.sales_order_value,
        reasons.record_count,
        reasons.first_changed_at,
        figures.functional_currency as currency,
        reasons.amount,
        figures.functional_currency,
        reasons.amount as amount_functional,
        figures.reporting_currency,
        {{ convert_money('reasons.amount', 'figures.functional_to_reporting_rate') }} as amount_reporting,
        reasons.occurred_on,
        reasons.details
    from reasons
    inner join figures
        on reasons.period_id = figures.period_id
        and reasons.legal_entity_id = figures.legal_entity_id
)

select * from final
