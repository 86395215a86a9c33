-- One row per live ERP invoice or credit memo. Amounts as NetSuite holds them (credit memos
-- positive too: subtract them), in the transaction currency, converted with the document's own
-- exchange rate to the legal entity's functional currency and with the posting period's average
-- consolidated rate to the reporting currency (net amounts line by line, see invoice_lines).
with

transactions as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type in ('CustInvc', 'CustCred')
),

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
),

line_totals as (
    select
        invoice_id,
        count(*) as line_count,
        sum(net_amount) as net_amount,
        sum(coalesce(tax_amount, 0)) as tax_amount,
        sum(net_amount_functional) as net_amount_functional,
        sum(net_amount_reporting) as net_amount_reporting
    from invoice_lines
    group by invoice_id
),

final as (
    select
        transactions.transaction_id as invoice_id,
        transactions.transaction_number as invoice_number,
        transactions.psa_invoice_number,
        case transactions.transaction_type
            when 'CustInvc' then 'invoice'
            when 'CustCred' then 'credit_memo'
        end as invoice_type,
        transactions.canonical_status as invoice_status,
        transactions.status_code,
        transactions.customer_id,
        transactions.erp_customer_id,
        transactions.legal_entity_id,
        transactions.opportunity_id,
        transactions.created_from_transaction_id,
        transactions.credited_invoice_id,
        transactions.credited_amount,
        transactions.is_credited_in_full,
        transactions.transaction_date as invoice_date,
        transactions.due_date,
        transactions.period_id,
        transactions.currency,
        transactions.exchange_rate,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.net_amount, 0) as {{ money_type() }}) as net_amount,
        -- the lines' tax, or the header's where the entity carries tax on the header
        cast(
            case
                when transactions.tax_level = 'header' then coalesce(transactions.header_tax_amount, 0)
                else coalesce(line_totals.tax_amount, 0)
            end
            as {{ money_type() }}
        ) as tax_amount,
        transactions.total_amount,
        transactions.functional_currency,
        cast(coalesce(line_totals.net_amount_functional, 0) as {{ money_type() }}) as net_amount_functional,
        {{ convert_money('transactions.total_amount', 'transactions.exchange_rate') }} as total_amount_functional,
        transactions.reporting_currency,
        cast(coalesce(line_totals.net_amount_reporting, 0) as {{ money_type() }}) as net_amount_reporting,
        {{ convert_money(convert_money('transactions.total_amount', 'transactions.exchange_rate'), 'transactions.functional_to_reporting_rate') }} as total_amount_reporting,
        transactions.memo,
        transactions.created_at,
        transactions.modified_at,
        'erp' as source_system,
        cast(transactions.transaction_id as {{ dbt.type_string() }}) as source_record_id
    from transactions
    left join line_totals
        on transactions.transaction_id = line_totals.invoice_id
)

select * from final
