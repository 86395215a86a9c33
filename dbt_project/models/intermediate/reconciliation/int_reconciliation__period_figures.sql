-- The figures of every accounting period and legal entity that month-end depends on, in the
-- entity's functional currency. Each figure is summed per transaction currency, converted at the
-- period's rate (int_exchange_rates: round(usd(c) / usd(f), 6), the contract's rule) and rounded to
-- the cent, so the PSA and ERP values are exactly the reporting-drift contract's (b):
--   psa_billed_value: billed time (hours x billable_rate) on billable T&M projects, where the
--     invoice that billed it posts: the period and entity of the invoice the entry pairs with
--     (int_reconciliation__billed_time_invoices), so time invoiced the month after it was worked,
--     or by another entity, is compared with that invoice; billed time no invoice carries counts
--     by the period of spent_date and the entity the time counts for (profile:
--     links.consultant_entity, the consultant's home office or the project's customer);
--     time billed on an invoice credited in full that no rebill carries counts on neither side
--     (psa_credited_billed_value);
--   erp_invoiced_value: net amount of invoice lines whose item is not a fixed-fee item (profile:
--     fixed_fee_items), by posting period and the line's entity, net of the credit memos created
--     from each invoice, which count where the invoice they credit posts (an invoice credited in
--     full nets to zero; a credit memo created from no invoice counts where it posts);
--   psa_unpaired_billed_value / erp_unpaired_invoiced_value: the parts of the two that cannot be
--     paired: billed time no invoice carries, and invoiced (non-fixed-fee) lines of invoices no
--     billed time names;
-- and, for the frozen-figure comparison and the KPIs:
--   approved_billable_hours / _value: approved billable time on billable T&M projects;
--   invoiced_amount: net amount of every invoice line (fixed-fee instalments included);
--   bookings_value: won deals by close date and the deal's legal entity (CRM);
--   sales_order_value: what live, non-cancelled ERP sales orders book (their lines' net amounts,
--     before tax) by posting period and subsidiary.
{{ config(materialized='table') }}

with

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_billable_project
        and billing_method = 'time_and_materials'
),

resources as (
    select * from {{ ref('resources') }}
),

billed_time_invoices as (
    select * from {{ ref('int_reconciliation__billed_time_invoices') }}
    where is_paired
),

paired_invoices as (
    select distinct invoice_id
    from billed_time_invoices
    where not is_invoice_credited_in_full
),

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
),

invoices as (
    select * from {{ ref('invoices') }}
    where invoice_type = 'invoice'
),

-- invoice lines, and credit memo lines negated, where the invoice they credit posts
erp_lines as (
    select
        coalesce(credited.invoice_id, invoice_lines.invoice_id) as invoice_id,
        coalesce(credited.period_id, invoice_lines.period_id) as period_id,
        coalesce(credited.legal_entity_id, invoice_lines.legal_entity_id) as legal_entity_id,
        invoice_lines.currency,
        invoice_lines.invoice_type,
        invoice_lines.item_code,
        case
            when invoice_lines.invoice_type = 'credit_memo' then -invoice_lines.net_amount
            else invoice_lines.net_amount
        end as net_amount
    from invoice_lines
    left join invoices as credited
        on invoice_lines.credited_invoice_id = credited.invoice_id
),

deals as (
    select * from {{ ref('quote_to_cash') }}
),

sales_orders as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type = 'SalesOrd'
        and coalesce(canonical_status, '') <> 'cancelled'
),

-- what a sales order books: its lines' net amounts, before tax (as booking_drift compares)
sales_order_lines as (
    select
        transaction_id,
        sum(net_amount) as net_amount
    from {{ ref('stg_netsuite__transaction_lines') }}
    where not is_deleted
        and not is_main_line
    group by transaction_id
),

-- every figure as (period, entity, currency, figure, amount) in the transaction currency;
-- time by the period it was worked in and the entity it counts for, except billed time an
-- invoice billed (paired_time_amounts)
time_amounts as (
    select
        periods.period_id,
        {{ time_entity() }} as legal_entity_id,
        time_entries.currency,
        sum(case when time_entries.is_billed and billed_time_invoices.time_entry_id is null then time_entries.hours * time_entries.billable_rate end) as unpaired_billed_amount,
        sum(case when time_entries.is_approved and time_entries.is_billable then time_entries.hours end) as approved_billable_hours,
        sum(case when time_entries.is_approved and time_entries.is_billable then time_entries.hours * time_entries.billable_rate end) as approved_billable_amount
    from time_entries
    inner join resources
        on time_entries.user_id = resources.user_id
    inner join periods
        on time_entries.spent_date between periods.start_date and periods.end_date
    left join billed_time_invoices
        on time_entries.time_entry_id = billed_time_invoices.time_entry_id
    group by
        periods.period_id,
        {{ time_entity() }},
        time_entries.currency
),

-- billed time where the invoice that billed it posts (apart: time on an invoice credited in full)
paired_time_amounts as (
    select
        billed_time_invoices.invoice_period_id as period_id,
        billed_time_invoices.invoice_legal_entity_id as legal_entity_id,
        time_entries.currency,
        sum(case when not billed_time_invoices.is_invoice_credited_in_full then time_entries.hours * time_entries.billable_rate end) as paired_billed_amount,
        sum(case when billed_time_invoices.is_invoice_credited_in_full then time_entries.hours * time_entries.billable_rate end) as credited_billed_amount
    from time_entries
    inner join billed_time_invoices
        on time_entries.time_entry_id = billed_time_invoices.time_entry_id
    group by
        billed_time_invoices.invoice_period_id,
        billed_time_invoices.invoice_legal_entity_id,
        time_entries.currency
),

invoice_amounts as (
    select
        erp_lines.period_id,
        erp_lines.legal_entity_id,
        erp_lines.currency,
        sum(case when not {{ is_fixed_fee_item('erp_lines.item_code') }} then erp_lines.net_amount end) as erp_invoiced_amount,
        sum(case when not {{ is_fixed_fee_item('erp_lines.item_code') }} and paired_invoices.invoice_id is null then erp_lines.net_amount end) as erp_unpaired_invoiced_amount,
        sum(case when erp_lines.invoice_type = 'invoice' then erp_lines.net_amount end) as invoiced_amount
    from erp_lines
    left join paired_invoices
        on erp_lines.invoice_id = paired_invoices.invoice_id
    group by
        erp_lines.period_id,
        erp_lines.legal_entity_id,
        erp_lines.currency
),

booking_amounts as (
    select
        periods.period_id,
        deals.legal_entity_id,
        deals.currency,
        sum(deals.booked_amount) as bookings_amount
    from deals
    inner join periods
        on deals.closed_won_date between periods.start_date and periods.end_date
    group by
        periods.period_id,
        deals.legal_entity_id,
        deals.currency
),

sales_order_amounts as (
    select
        sales_orders.period_id,
        sales_orders.legal_entity_id,
        sales_orders.currency,
        sum(coalesce(sales_order_lines.net_amount, 0)) as sales_order_amount
    from sales_orders
    left join sales_order_lines
        on sales_orders.transaction_id = sales_order_lines.transaction_id
    group by
        sales_orders.period_id,
        sales_orders.legal_entity_id,
        sales_orders.currency
),

{#- every figure, and which of the CTEs above holds it (under which name): one union below #}
{%- set figure_names = [
    'psa_unpaired_billed_amount', 'psa_paired_billed_amount', 'psa_credited_billed_amount',
    'approved_billable_hours', 'approved_billable_amount', 'erp_invoiced_amount',
    'erp_unpaired_invoiced_amount', 'invoiced_amount', 'bookings_amount', 'sales_order_amount',
] %}
{%- set figure_sources = [
    ('time_amounts', {
        'psa_unpaired_billed_amount': 'unpaired_billed_amount',
        'approved_billable_hours': 'approved_billable_hours',
        'approved_billable_amount': 'approved_billable_amount',
    }),
    ('paired_time_amounts', {
        'psa_paired_billed_amount': 'paired_billed_amount',
        'psa_credited_billed_amount': 'credited_billed_amount',
    }),
    ('invoice_amounts', {
        'erp_invoiced_amount': 'erp_invoiced_amount',
        'erp_unpaired_invoiced_amount': 'erp_unpaired_invoiced_amount',
        'invoiced_amount': 'invoiced_amount',
    }),
    ('booking_amounts', {'bookings_amount': 'bookings_amount'}),
    ('sales_order_amounts', {'sales_order_amount': 'sales_order_amount'}),
] %}
amounts as (
    {%- for cte, columns in figure_sources %}
    select
        period_id,
        legal_entity_id,
        currency,
        {%- for figure in figure_names %}
        {{ columns.get(figure) or 'cast(null as decimal(18, 2))' }} as {{ figure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ cte }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

converted as (
    select
        amounts.period_id,
        amounts.legal_entity_id,
        sum((coalesce(amounts.psa_unpaired_billed_amount, 0) + coalesce(amounts.psa_paired_billed_amount, 0)) * exchange_rates.transaction_to_functional_rate) as psa_billed_value,
        sum(amounts.psa_unpaired_billed_amount * exchange_rates.transaction_to_functional_rate) as psa_unpaired_billed_value,
        sum(amounts.psa_credited_billed_amount * exchange_rates.transaction_to_functional_rate) as psa_credited_billed_value,
        sum(amounts.approved_billable_hours) as approved_billable_hours,
        sum(amounts.approved_billable_amount * exchange_rates.transaction_to_functional_rate) as approved_billable_value,
        sum(amounts.erp_invoiced_amount * exchange_rates.transaction_to_functional_rate) as erp_invoiced_value,
        sum(amounts.erp_unpaired_invoiced_amount * exchange_rates.transaction_to_functional_rate) as erp_unpaired_invoiced_value,
        sum(amounts.invoiced_amount * exchange_rates.transaction_to_functional_rate) as invoiced_amount,
        sum(amounts.bookings_amount * exchange_rates.transaction_to_functional_rate) as bookings_value,
        sum(amounts.sales_order_amount * exchange_rates.transaction_to_functional_rate) as sales_order_value
    from amounts
    inner join exchange_rates
        on amounts.period_id = exchange_rates.period_id
        and amounts.legal_entity_id = exchange_rates.legal_entity_id
        and amounts.currency = exchange_rates.transaction_currency
    group by
        amounts.period_id,
        amounts.legal_entity_id
),

final as (
    select
        {{ dbt.concat(['periods.fiscal_month', "'|'", "cast(legal_entities.legal_entity_id as " ~ dbt.type_string() ~ ")"]) }} as period_entity_key,
        periods.period_id,
        periods.fiscal_month as period,
        periods.start_date,
        periods.end_date,
        periods.is_closed,
        periods.closed_at,
        legal_entities.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        legal_entities.functional_currency,
        exchange_rates.reporting_currency,
        exchange_rates.functional_to_reporting_rate,
        cast(round(coalesce(converted.psa_billed_value, 0), 2) as {{ money_type() }}) as psa_billed_value,
        cast(round(coalesce(converted.erp_invoiced_value, 0), 2) as {{ money_type() }}) as erp_invoiced_value,
        cast(round(coalesce(converted.psa_unpaired_billed_value, 0), 2) as {{ money_type() }}) as psa_unpaired_billed_value,
        cast(round(coalesce(converted.psa_credited_billed_value, 0), 2) as {{ money_type() }}) as psa_credited_billed_value,
        cast(round(coalesce(converted.erp_unpaired_invoiced_value, 0), 2) as {{ money_type() }}) as erp_unpaired_invoiced_value,
        cast(coalesce(converted.approved_billable_hours, 0) as decimal(12, 2)) as approved_billable_hours,
        cast(round(coalesce(converted.approved_billable_value, 0), 2) as {{ money_type() }}) as approved_billable_value,
        cast(round(coalesce(converted.invoiced_amount, 0), 2) as {{ money_type() }}) as invoiced_amount,
        cast(round(coalesce(converted.bookings_value, 0), 2) as {{ money_type() }}) as bookings_value,
        cast(round(coalesce(converted.sales_order_value, 0), 2) as {{ money_type() }}) as sales_order_value
    from periods
    cross join legal_entities
    left join converted
        on periods.period_id = converted.period_id
        and legal_entities.legal_entity_id = converted.legal_entity_id
    left join exchange_rates
        on periods.period_id = exchange_rates.period_id
        and legal_entities.legal_entity_id = exchange_rates.legal_entity_id
        and legal_entities.functional_currency = exchange_rates.transaction_currency
)

select * from final
