-- Records that changed a closed period after its close: the timestamp half of the reporting-drift
-- contract, so drift is found even for periods that closed before the warehouse existed.
--   time_entry_created_after_close (a1): an approved, billable time entry on a billable T&M
--     project, worked in a closed period, created after that period's close; entity = the one
--     the time counts for (profile: links.consultant_entity, macro time_entity);
--   invoice_line_modified_after_close (a2): an invoice line whose posting period is closed,
--     last modified after the close; entity = the line's legal entity.
-- One row per record, with its value in the transaction and functional currency.
with

periods as (
    select * from {{ ref('periods') }}
    where is_closed
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_approved
        and is_billable
        and is_billable_project
        and billing_method = 'time_and_materials'
),

resources as (
    select * from {{ ref('resources') }}
),

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
),

late_time_entries as (
    select
        'time_entry_created_after_close' as change_type,
        periods.period_id,
        {{ time_entity() }} as legal_entity_id,
        'psa' as source_system,
        time_entries.source_record_id,
        time_entries.created_at as changed_at,
        time_entries.currency,
        time_entries.billable_amount as amount
    from time_entries
    inner join periods
        on time_entries.spent_date between periods.start_date and periods.end_date
    inner join resources
        on time_entries.user_id = resources.user_id
    where time_entries.created_at > periods.closed_at
),

late_invoice_lines as (
    select
        'invoice_line_modified_after_close' as change_type,
        periods.period_id,
        invoice_lines.legal_entity_id,
        'erp' as source_system,
        invoice_lines.source_record_id,
        invoice_lines.modified_at as changed_at,
        invoice_lines.currency,
        invoice_lines.net_amount as amount
    from invoice_lines
    inner join periods
        on invoice_lines.period_id = periods.period_id
    where invoice_lines.modified_at > periods.closed_at
),

changes as (
    select * from late_time_entries
    union all
    select * from late_invoice_lines
),

final as (
    select
        changes.change_type,
        periods.period_id,
        periods.fiscal_month as period,
        changes.legal_entity_id,
        changes.source_system,
        changes.source_record_id,
        changes.changed_at,
        periods.closed_at,
        changes.currency,
        changes.amount,
        exchange_rates.functional_currency,
        {{ convert_money('changes.amount', 'exchange_rates.transaction_to_functional_rate') }} as amount_functional
    from changes
    inner join periods
        on changes.period_id = periods.period_id
    left join exchange_rates
        on changes.period_id = exchange_rates.period_id
        and changes.legal_entity_id = exchange_rates.legal_entity_id
        and changes.currency = exchange_rates.transaction_currency
)

select * from final
