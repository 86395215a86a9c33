-- invoice_rate_variance (erp, invoice line uniquekey): an invoice line whose rate differs from the
-- contracted rate of its item's role on the invoice's deal (the won, live opportunity the invoice
-- names, links.invoice_deal; the item's role and the role's Salesforce ProductCode are the
-- profile's vocabulary.roles; contracted rate = the deal's live line item's UnitPrice with that
-- ProductCode), when the invoice is in the deal's currency. Invoices without a deal, lines of
-- items that are no role (fixed fees) and invoices in another currency (invoice_currency_mismatch)
-- are out of scope, and so are invoices credited in full (void: their rebill is judged). The
-- amount is the over (+) or under (-) billing: quantity x (rate - contracted).
with

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
        and not is_credited_in_full
),

transactions as (
    select * from {{ ref('int_erp_transactions') }}
),

deals as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won
        and not is_deleted
),

line_items as (
    select * from {{ ref('stg_salesforce__opportunity_line_items') }}
    where not is_deleted
),

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

-- every (invoice line, contracted line item) pair the contract compares
compared as (
    select
        invoice_lines.invoice_line_id,
        max(line_items.unit_price) as contracted_rate,
        min(line_items.unit_price) as lowest_contracted_rate,
        min(line_items.opportunity_line_item_id) as opportunity_line_item_id
    from invoice_lines
    inner join deals
        on invoice_lines.opportunity_id = deals.opportunity_id
        and invoice_lines.currency = deals.currency
    inner join line_items
        on deals.opportunity_id = line_items.opportunity_id
        and invoice_lines.role_code = line_items.role_code
    group by invoice_lines.invoice_line_id
),

variances as (
    select
        invoice_lines.*,
        compared.contracted_rate,
        compared.opportunity_line_item_id,
        cast(invoice_lines.quantity * (invoice_lines.rate - compared.contracted_rate) as {{ money_type() }}) as variance_amount
    from invoice_lines
    inner join compared
        on invoice_lines.invoice_line_id = compared.invoice_line_id
    -- a line differs from some contracted line item of its role (one per role per deal)
    where invoice_lines.rate <> compared.contracted_rate
        or invoice_lines.rate <> compared.lowest_contracted_rate
),

final as (
    select
        'invoice_rate_variance' as exception_type,
        variances.source_system,
        variances.source_record_id,
        variances.invoice_line_id,
        variances.invoice_id,
        variances.invoice_number,
        variances.line_number,
        variances.item_code,
        variances.customer_id,
        variances.opportunity_id,
        variances.opportunity_line_item_id,
        variances.invoice_date,
        periods.fiscal_month as period,
        variances.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        variances.quantity,
        variances.rate,
        variances.contracted_rate,
        variances.currency,
        variances.variance_amount as amount,
        variances.functional_currency,
        {{ convert_money('variances.variance_amount', 'variances.exchange_rate') }} as amount_functional,
        variances.reporting_currency,
        {{ convert_money(convert_money('variances.variance_amount', 'variances.exchange_rate'), 'transactions.functional_to_reporting_rate') }} as amount_reporting,
        variances.net_amount,
        variances.invoice_date as occurred_on,
        {{ dbt.concat([
            "variances.invoice_number",
            "' line '",
            "cast(variances.line_number as " ~ dbt.type_string() ~ ")",
            "': rate '",
            "cast(variances.rate as " ~ dbt.type_string() ~ ")",
            "' instead of contracted '",
            "cast(variances.contracted_rate as " ~ dbt.type_string() ~ ")",
        ]) }} as details
    from variances
    left join transactions
        on variances.invoice_id = transactions.transaction_id
    left join periods
        on variances.period_id = periods.period_id
    left join legal_entities
        on variances.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
