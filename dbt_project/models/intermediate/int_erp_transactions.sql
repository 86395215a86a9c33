-- Live ERP transactions (sales orders, invoices, credit memos, payments) with what every canonical
-- money model needs: the currency codes, the golden customer, the canonical status, the period
-- (the posting period, else the period of the transaction date: sales orders do not post), and the
-- two rates: the transaction's own `exchangerate` (transaction -> functional) and the period's
-- average consolidated rate (functional -> reporting), and the deal: the header custom field, or
-- for invoices and credit memos the deal of the project their lines bill (profile:
-- links.invoice_deal), then the deal of the sales order the invoice was created from. Credits: a
-- credit memo credits the invoice it was created from, else the one invoice it is applied to
-- (credited_invoice_id); an invoice's credited_amount is the total of the credit memos that credit
-- it, and it is credited in full when they cover its total (credit-and-rebill: the credited
-- invoice is void, its rebill is live).
with

transactions as (
    select * from {{ ref('stg_netsuite__transactions') }}
    where not is_deleted
),

currencies as (
    select * from {{ ref('stg_netsuite__currencies') }}
),

statuses as (
    select * from {{ ref('netsuite_transaction_statuses') }}
),

crosswalk as (
    select * from {{ ref('int_customers__matched') }}
    where source_system = 'erp'
),

periods as (
    select * from {{ ref('stg_netsuite__accounting_periods') }}
    where not is_deleted
        and not is_quarter
        and not is_year
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

subsidiaries as (
    select * from {{ ref('stg_netsuite__subsidiaries') }}
),

links as (
    select * from {{ ref('stg_netsuite__transaction_links') }}
    where not is_deleted
),

-- the invoice a document is applied to, when it is applied to exactly one
single_applications as (
    select
        links.next_transaction_id as transaction_id,
        min(links.previous_transaction_id) as invoice_id
    from links
    inner join transactions as invoices
        on links.previous_transaction_id = invoices.transaction_id
        and invoices.transaction_type = 'CustInvc'
    group by links.next_transaction_id
    having count(*) = 1
),

-- the invoice each credit memo credits: the one it was created from, else the one it is applied to
credit_memos as (
    select
        credit_memos.transaction_id,
        credit_memos.total_amount,
        coalesce(created_from.transaction_id, single_applications.invoice_id) as invoice_id
    from transactions as credit_memos
    left join transactions as created_from
        on credit_memos.created_from_transaction_id = created_from.transaction_id
        and created_from.transaction_type = 'CustInvc'
    left join single_applications
        on credit_memos.transaction_id = single_applications.transaction_id
    where credit_memos.transaction_type = 'CustCred'
),

-- what the live credit memos crediting each invoice credit, tax included (as its total)
credits as (
    select
        invoice_id as transaction_id,
        sum(total_amount) as credited_amount
    from credit_memos
    where invoice_id is not null
    group by invoice_id
),

{%- if var('q2c_invoice_deal_link') == 'line_project' %}

-- the deal of the Harvest project an invoice's lines bill, when they name exactly one
-- (profile: links.invoice_deal via line_project)
line_deals as (
    select
        lines.transaction_id,
        min(projects.opportunity_id) as opportunity_id
    from {{ ref('stg_netsuite__transaction_lines') }} as lines
    inner join {{ ref('int_projects__opportunities') }} as projects
        on lines.psa_project_id = cast(projects.project_id as {{ dbt.type_string() }})
    where not lines.is_deleted
        and not lines.is_main_line
        and projects.opportunity_id is not null
    group by lines.transaction_id
    having count(distinct projects.opportunity_id) = 1
),
{%- endif %}

with_period as (
    select
        transactions.* exclude (opportunity_id),
        case
            when transactions.transaction_type in ('CustInvc', 'CustCred')
                then coalesce(
                    {%- if var('q2c_invoice_deal_link') == 'line_project' %}
                    line_deals.opportunity_id,
                    {%- endif %}
                    transactions.opportunity_id,
                    created_from_order.opportunity_id
                )
            else transactions.opportunity_id
        end as opportunity_id,
        coalesce(transactions.period_id, date_periods.period_id) as effective_period_id
    from transactions
    left join periods as date_periods
        on transactions.transaction_date between date_periods.start_date and date_periods.end_date
    -- the sales order an invoice was created from names the deal too (the last resort: when the
    -- project its lines bill names none, e.g. a project whose deal reference was cleared)
    left join transactions as created_from_order
        on transactions.created_from_transaction_id = created_from_order.transaction_id
        and created_from_order.transaction_type = 'SalesOrd'
    {%- if var('q2c_invoice_deal_link') == 'line_project' %}
    left join line_deals
        on transactions.transaction_id = line_deals.transaction_id
    {%- endif %}
),

final as (
    select
        with_period.transaction_id,
        with_period.transaction_number,
        with_period.psa_invoice_number,
        with_period.transaction_type,
        with_period.status as status_code,
        statuses.canonical_status,
        with_period.customer_id as erp_customer_id,
        crosswalk.customer_id,
        with_period.subsidiary_id as legal_entity_id,
        with_period.opportunity_id,
        with_period.created_from_transaction_id,
        -- where the entity carries sales tax: a code on each line, or one on the header
        -- (profile: tax.header_level_countries)
        case
            when subsidiaries.country in {{ tenant_list(var('q2c_header_tax_countries')) }} then 'header'
            else 'line'
        end as tax_level,
        with_period.header_tax_code_id,
        with_period.header_tax_amount,
        credit_memos.invoice_id as credited_invoice_id,
        case when with_period.transaction_type = 'CustInvc' then cast(coalesce(credits.credited_amount, 0) as {{ money_type() }}) end as credited_amount,
        coalesce(
            with_period.transaction_type = 'CustInvc' and credits.credited_amount >= with_period.total_amount,
            false
        ) as is_credited_in_full,
        with_period.transaction_date,
        with_period.due_date,
        with_period.effective_period_id as period_id,
        currencies.currency,
        with_period.exchange_rate,
        with_period.total_amount,
        exchange_rates.functional_currency,
        exchange_rates.reporting_currency,
        exchange_rates.functional_to_reporting_rate,
        with_period.memo,
        {{ as_utc_timestamp('with_period.created_at') }} as created_at,
        with_period.modified_at
    from with_period
    left join subsidiaries
        on with_period.subsidiary_id = subsidiaries.subsidiary_id
    left join credits
        on with_period.transaction_id = credits.transaction_id
    left join credit_memos
        on with_period.transaction_id = credit_memos.transaction_id
    left join currencies
        on with_period.currency_id = currencies.currency_id
    left join statuses
        on with_period.transaction_type = statuses.transaction_type
        and with_period.status = statuses.status_code
    left join crosswalk
        on cast(with_period.customer_id as {{ dbt.type_string() }}) = crosswalk.source_record_id
    left join exchange_rates
        on with_period.effective_period_id = exchange_rates.period_id
        and with_period.subsidiary_id = exchange_rates.legal_entity_id
        and exchange_rates.transaction_currency = exchange_rates.functional_currency
)

select * from final
