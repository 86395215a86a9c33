-- Operational KPIs per accounting period and legal entity:
--   closed_won_to_project_days: deals won in the period, average days from the close date to the
--     creation of their (first) PSA project;
--   approval_to_invoice_days: invoices issued for the period's service month, average days from
--     the end of the service month (the invoice's transaction date; Harvest exposes no approval
--     timestamp, and a month's time is approved by then + 2 days) to the invoice's creation in
--     the ERP;
--   time_to_invoice_days: billed time worked in the period, hours-weighted average days from the
--     day worked to the creation of the invoice that billed it;
--   invoice_to_payment_days: invoices of the period that are paid, average days to payment;
--   dso_days: days sales outstanding at period end, receivables (invoices - credit memos -
--     payments up to the period end, functional currency) / invoiced with tax in the period x days
--     in the period;
--   realization_pct: ERP invoiced value / approved billable value of the period's T&M time
--     (int_reconciliation__period_figures), in percent.
with

figures as (
    select * from {{ ref('int_reconciliation__period_figures') }}
),

periods as (
    select * from {{ ref('periods') }}
),

quote_to_cash as (
    select * from {{ ref('quote_to_cash') }}
),

invoices as (
    select * from {{ ref('invoices') }}
),

payments as (
    select * from {{ ref('payments') }}
),

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_billed
),

pairing as (
    select * from {{ ref('int_reconciliation__billed_time_invoices') }}
    where is_paired
),

won_to_project as (
    select
        periods.period_id,
        quote_to_cash.legal_entity_id,
        count(*) as deal_count,
        avg({{ dbt.datediff('quote_to_cash.closed_won_date', utc_date('quote_to_cash.project_created_at'), 'day') }}) as closed_won_to_project_days
    from quote_to_cash
    inner join periods
        on quote_to_cash.closed_won_date between periods.start_date and periods.end_date
    where quote_to_cash.project_created_at is not null
    group by
        periods.period_id,
        quote_to_cash.legal_entity_id
),

approval_to_invoice as (
    select
        invoices.period_id,
        invoices.legal_entity_id,
        count(*) as invoice_count,
        avg({{ dbt.datediff('invoices.invoice_date', utc_date('invoices.created_at'), 'day') }}) as approval_to_invoice_days
    from invoices
    where invoices.invoice_type = 'invoice'
    group by
        invoices.period_id,
        invoices.legal_entity_id
),

time_to_invoice as (
    select
        time_entries.period_id,
        time_entries.legal_entity_id,
        sum(time_entries.hours * {{ dbt.datediff('time_entries.spent_date', utc_date('pairing.invoice_created_at'), 'day') }})
            / nullif(sum(time_entries.hours), 0) as time_to_invoice_days
    from time_entries
    inner join pairing
        on time_entries.time_entry_id = pairing.time_entry_id
    group by
        time_entries.period_id,
        time_entries.legal_entity_id
),

invoice_to_payment as (
    select
        invoices.period_id,
        invoices.legal_entity_id,
        count(*) as paid_invoice_count,
        avg({{ dbt.datediff('invoices.invoice_date', 'payments.payment_date', 'day') }}) as invoice_to_payment_days
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id
    group by
        invoices.period_id,
        invoices.legal_entity_id
),

-- receivable movements in the functional currency: + invoices, - credit memos, - payments
receivable_movements as (
    select
        legal_entity_id,
        invoice_date as movement_date,
        case when invoice_type = 'invoice' then total_amount_functional else -total_amount_functional end as amount
    from invoices

    union all

    select
        legal_entity_id,
        payment_date,
        -amount_functional
    from payments
),

receivables as (
    select
        figures.period_id,
        figures.legal_entity_id,
        sum(case when receivable_movements.movement_date <= figures.end_date then receivable_movements.amount else 0 end) as receivables_at_end,
        sum(
            case
                when receivable_movements.amount > 0
                    and receivable_movements.movement_date between figures.start_date and figures.end_date
                    then receivable_movements.amount
                else 0
            end
        ) as invoiced_gross
    from figures
    inner join receivable_movements
        on figures.legal_entity_id = receivable_movements.legal_entity_id
    group by
        figures.period_id,
        figures.legal_entity_id
),

final as (
    select
        figures.period_entity_key,
        figures.period,
        figures.period_id,
        figures.is_closed as is_period_closed,
        figures.legal_entity_id,
        figures.legal_entity,
        figures.functional_currency,
        cast(won_to_project.deal_count as integer) as won_deal_count,
        cast(won_to_project.closed_won_to_project_days as decimal(10, 1)) as closed_won_to_project_days,
        cast(approval_to_invoice.invoice_count as integer) as invoice_count,
        cast(approval_to_invoice.approval_to_invoice_days as decimal(10, 1)) as approval_to_invoice_days,
        cast(time_to_invoice.time_to_invoice_days as decimal(10, 1)) as time_to_invoice_days,
        cast(invoice_to_payment.paid_invoice_count as integer) as paid_invoice_count,
        cast(invoice_to_payment.invoice_to_payment_days as decimal(10, 1)) as invoice_to_payment_days,
        cast(receivables.receivables_at_end as {{ money_type() }}) as receivables_at_end,
        cast(receivables.invoiced_gross as {{ money_type() }}) as invoiced_gross,
        cast(
            receivables.receivables_at_end / nullif(receivables.invoiced_gross, 0)
            * ({{ dbt.datediff('figures.start_date', 'figures.end_date', 'day') }} + 1)
            as decimal(10, 1)
        ) as dso_days,
        figures.approved_billable_value,
        figures.erp_invoiced_value,
        cast(100 * figures.erp_invoiced_value / nullif(figures.approved_billable_value, 0) as decimal(10, 2)) as realization_pct
    from figures
    left join won_to_project
        on figures.period_id = won_to_project.period_id
        and figures.legal_entity_id = won_to_project.legal_entity_id
    left join approval_to_invoice
        on figures.period_id = approval_to_invoice.period_id
        and figures.legal_entity_id = approval_to_invoice.legal_entity_id
    left join time_to_invoice
        on figures.period_id = time_to_invoice.period_id
        and figures.legal_entity_id = time_to_invoice.legal_entity_id
    left join invoice_to_payment
        on figures.period_id = invoice_to_payment.period_id
        and figures.legal_entity_id = invoice_to_payment.legal_entity_id
    left join receivables
        on figures.period_id = receivables.period_id
        and figures.legal_entity_id = receivables.legal_entity_id
)

select * from final
