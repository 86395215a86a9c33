-- One row per deal (live closed-won opportunity): the lifecycle dates from the win to the first
-- payment, and the booked, delivered, billed and collected amounts.
--   booked: the opportunity amount (CRM);
--   delivered: approved billable time at Harvest's rates on the deal's projects (PSA);
--   billed: net amount of the deal's invoice lines (ERP, credit memos not deducted);
--   collected: payments applied to the deal's invoices (ERP, tax included as paid).
-- `currency` is the deal's currency: every amount in it counts only documents in that currency;
-- documents in another currency (a planted mistake in the simulator) are summed apart in
-- `other_currency`. Functional and reporting amounts include every document, each converted at
-- its own rates (the ERP's rates for CRM and PSA amounts, see int_exchange_rates).
with

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
        and is_won
),

crosswalk as (
    select * from {{ ref('int_customers__matched') }}
    where source_system = 'crm'
),

customers as (
    select * from {{ ref('customers') }}
),

contracts as (
    select * from {{ ref('contracts') }}
),

projects as (
    select * from {{ ref('projects') }}
),

time_entries as (
    select * from {{ ref('time_entries') }}
),

invoices as (
    select * from {{ ref('invoices') }}
    where invoice_type = 'invoice'
),

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
),

payments as (
    select * from {{ ref('payments') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

-- the legal entity that books the deal: its sales order's, else its first invoice's, else the customer's
first_invoices as (
    select
        invoices.*,
        row_number() over (
            partition by invoices.opportunity_id
            order by invoices.invoice_date, invoices.invoice_id
        ) as invoice_rank
    from invoices
),

deals as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        crosswalk.customer_id,
        coalesce(contracts.legal_entity_id, first_invoices.legal_entity_id, customers.legal_entity_id) as legal_entity_id,
        opportunities.currency,
        opportunities.amount as booked_amount,
        opportunities.close_date,
        opportunities.contract_id,
        contracts.activated_at as contract_activated_at,
        contracts.sales_order_id,
        first_invoices.invoice_id as first_invoice_id,
        first_invoices.invoice_date as first_invoice_date
    from opportunities
    left join crosswalk
        on opportunities.account_id = crosswalk.source_record_id
    left join customers
        on crosswalk.customer_id = customers.customer_id
    left join contracts
        on opportunities.contract_id = contracts.contract_id
    left join first_invoices
        on opportunities.opportunity_id = first_invoices.opportunity_id
        and first_invoices.invoice_rank = 1
),

deal_projects as (
    select
        deal_opportunity_id as opportunity_id,
        count(*) as project_count,
        min(project_id) as first_project_id,
        min(created_at) as project_created_at
    from projects
    where deal_opportunity_id is not null
    group by deal_opportunity_id
),

delivered as (
    select
        time_entries.opportunity_id,
        min(time_entries.spent_date) as first_approved_time_date,
        sum(case when time_entries.currency = deals.currency then time_entries.billable_amount else 0 end) as delivered_amount,
        sum(time_entries.billable_amount_functional) as delivered_amount_functional,
        sum(time_entries.billable_amount_reporting) as delivered_amount_reporting
    from time_entries
    inner join deals
        on time_entries.opportunity_id = deals.opportunity_id
    where time_entries.is_approved
        and time_entries.is_billable
    group by time_entries.opportunity_id
),

billed as (
    select
        invoice_lines.opportunity_id,
        sum(case when invoice_lines.currency = deals.currency then invoice_lines.net_amount else 0 end) as billed_amount,
        sum(case when invoice_lines.currency <> deals.currency then invoice_lines.net_amount else 0 end) as billed_amount_other_currency,
        max(case when invoice_lines.currency <> deals.currency then invoice_lines.currency end) as other_currency,
        sum(invoice_lines.net_amount_functional) as billed_amount_functional,
        sum(invoice_lines.net_amount_reporting) as billed_amount_reporting
    from invoice_lines
    inner join deals
        on invoice_lines.opportunity_id = deals.opportunity_id
    group by invoice_lines.opportunity_id
),

collected as (
    select
        invoices.opportunity_id,
        min(payments.payment_date) as first_payment_date,
        sum(case when payments.currency = deals.currency then payments.amount else 0 end) as collected_amount,
        sum(case when payments.currency <> deals.currency then payments.amount else 0 end) as collected_amount_other_currency,
        max(case when payments.currency <> deals.currency then payments.currency end) as other_currency,
        sum(payments.amount_functional) as collected_amount_functional,
        sum(payments.amount_reporting) as collected_amount_reporting
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id
    inner join deals
        on invoices.opportunity_id = deals.opportunity_id
    group by invoices.opportunity_id
),

final as (
    select
        deals.opportunity_id,
        deals.opportunity_name,
        deals.customer_id,
        deals.legal_entity_id,
        deals.contract_id,
        deal_projects.first_project_id as project_id,
        cast(coalesce(deal_projects.project_count, 0) as integer) as project_count,
        deals.close_date as closed_won_date,
        deals.contract_activated_at,
        deal_projects.project_created_at,
        delivered.first_approved_time_date,
        deals.first_invoice_date,
        collected.first_payment_date,
        case
            when collected.first_payment_date is not null then 'collecting'
            when deals.first_invoice_date is not null then 'billing'
            when delivered.first_approved_time_date is not null then 'delivering'
            when deal_projects.project_created_at is not null then 'project_created'
            when deals.contract_activated_at is not null then 'contract_activated'
            else 'closed_won'
        end as lifecycle_stage,
        deals.currency,
        deals.booked_amount,
        cast(coalesce(delivered.delivered_amount, 0) as {{ money_type() }}) as delivered_amount,
        cast(coalesce(billed.billed_amount, 0) as {{ money_type() }}) as billed_amount,
        cast(coalesce(collected.collected_amount, 0) as {{ money_type() }}) as collected_amount,
        coalesce(billed.other_currency, collected.other_currency) as other_currency,
        cast(coalesce(billed.billed_amount_other_currency, 0) as {{ money_type() }}) as billed_amount_other_currency,
        cast(coalesce(collected.collected_amount_other_currency, 0) as {{ money_type() }}) as collected_amount_other_currency,
        exchange_rates.functional_currency,
        {{ convert_money('deals.booked_amount', 'exchange_rates.transaction_to_functional_rate') }} as booked_amount_functional,
        cast(coalesce(delivered.delivered_amount_functional, 0) as {{ money_type() }}) as delivered_amount_functional,
        cast(coalesce(billed.billed_amount_functional, 0) as {{ money_type() }}) as billed_amount_functional,
        cast(coalesce(collected.collected_amount_functional, 0) as {{ money_type() }}) as collected_amount_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('deals.booked_amount', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as booked_amount_reporting,
        cast(coalesce(delivered.delivered_amount_reporting, 0) as {{ money_type() }}) as delivered_amount_reporting,
        cast(coalesce(billed.billed_amount_reporting, 0) as {{ money_type() }}) as billed_amount_reporting,
        cast(coalesce(collected.collected_amount_reporting, 0) as {{ money_type() }}) as collected_amount_reporting,
        'crm' as source_system,
        deals.opportunity_id as source_record_id
    from deals
    left join deal_projects
        on deals.opportunity_id = deal_projects.opportunity_id
    left join delivered
        on deals.opportunity_id = delivered.opportunity_id
    left join billed
        on deals.opportunity_id = billed.opportunity_id
    left join collected
        on deals.opportunity_id = collected.opportunity_id
    left join exchange_rates
        on deals.legal_entity_id = exchange_rates.legal_entity_id
        and deals.currency = exchange_rates.transaction_currency
        and deals.close_date between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
