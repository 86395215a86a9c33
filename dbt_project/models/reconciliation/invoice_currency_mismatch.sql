-- invoice_currency_mismatch (erp, invoice transaction id): an invoice whose currency is not its
-- deal's currency (the won, live opportunity the invoice names, links.invoice_deal); an invoice
-- credited in full is void (its rebill is judged instead). The amount is the invoice's net amount in
-- the currency it was (wrongly) issued in.
with

invoices as (
    select * from {{ ref('invoices') }}
    where invoice_type = 'invoice'
        and not is_credited_in_full
),

deals as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won
        and not is_deleted
),

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

mismatched as (
    select
        invoices.*,
        deals.currency as deal_currency
    from invoices
    inner join deals
        on invoices.opportunity_id = deals.opportunity_id
    where invoices.currency <> deals.currency
),

final as (
    select
        'invoice_currency_mismatch' as exception_type,
        mismatched.source_system,
        mismatched.source_record_id,
        mismatched.invoice_id,
        mismatched.invoice_number,
        mismatched.customer_id,
        mismatched.opportunity_id,
        mismatched.invoice_date,
        periods.fiscal_month as period,
        mismatched.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        mismatched.deal_currency,
        mismatched.currency,
        mismatched.net_amount as amount,
        mismatched.functional_currency,
        mismatched.net_amount_functional as amount_functional,
        mismatched.reporting_currency,
        mismatched.net_amount_reporting as amount_reporting,
        mismatched.total_amount,
        mismatched.invoice_date as occurred_on,
        {{ dbt.concat([
            "mismatched.invoice_number",
            "' in '",
            "mismatched.currency",
            "', deal in '",
            "mismatched.deal_currency",
        ]) }} as details
    from mismatched
    left join periods
        on mismatched.period_id = periods.period_id
    left join legal_entities
        on mismatched.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
