-- One row per live ERP customer payment, in the transaction currency, the legal entity's
-- functional currency (the payment's own exchange rate) and the reporting currency (average
-- consolidated rate of the payment's period), with the invoice it settles.
with

payments as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type = 'CustPymt'
),

links as (
    select * from {{ ref('stg_netsuite__transaction_links') }}
    where not is_deleted
),

invoices as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type = 'CustInvc'
),

applications as (
    select
        links.next_transaction_id as payment_id,
        count(*) as applied_invoice_count,
        min(links.previous_transaction_id) as first_invoice_id
    from links
    inner join invoices
        on links.previous_transaction_id = invoices.transaction_id
    group by links.next_transaction_id
),

final as (
    select
        payments.transaction_id as payment_id,
        payments.transaction_number as payment_number,
        payments.canonical_status as payment_status,
        payments.status_code,
        payments.customer_id,
        payments.erp_customer_id,
        payments.legal_entity_id,
        case when applications.applied_invoice_count = 1 then applications.first_invoice_id end as invoice_id,
        cast(coalesce(applications.applied_invoice_count, 0) as integer) as applied_invoice_count,
        payments.transaction_date as payment_date,
        payments.period_id,
        payments.currency,
        payments.exchange_rate,
        payments.total_amount as amount,
        payments.functional_currency,
        {{ convert_money('payments.total_amount', 'payments.exchange_rate') }} as amount_functional,
        payments.reporting_currency,
        {{ convert_money(convert_money('payments.total_amount', 'payments.exchange_rate'), 'payments.functional_to_reporting_rate') }} as amount_reporting,
        payments.memo,
        payments.created_at,
        payments.modified_at,
        'erp' as source_system,
        cast(payments.transaction_id as {{ dbt.type_string() }}) as source_record_id
    from payments
    left join applications
        on payments.transaction_id = applications.payment_id
)

select * from final
