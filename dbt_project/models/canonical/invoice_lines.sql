-- One row per line of a live ERP invoice or credit memo: item and role, quantity and rate, tax
-- code and rate (the line's own, or, in an entity that carries tax on the header, the header's
-- tax item on a taxable line; profile: tax.header_level_countries), and the net amount in the
-- transaction, functional and reporting currencies (the document's exchange rate, then the
-- posting period's average consolidated rate).
with

lines as (
    select * from {{ ref('stg_netsuite__transaction_lines') }}
    where not is_deleted
        and not is_main_line
),

transactions as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type in ('CustInvc', 'CustCred')
),

items as (
    select * from {{ ref('stg_netsuite__items') }}
),

roles as (
    select * from {{ ref('lookup_roles') }}
),

tax_codes as (
    select * from {{ ref('stg_netsuite__tax_codes') }}
),

{#- whether a line needs a tax code, and the one that applies to it, where its entity carries tax #}
{%- set is_taxable -%}
    (transactions.tax_level <> 'header' or coalesce(lines.is_taxable, true))
{%- endset %}
{%- set applied_tax_code_id -%}
    case
        when transactions.tax_level <> 'header' then lines.tax_code_id
        when {{ is_taxable }} then transactions.header_tax_code_id
    end
{%- endset %}

final as (
    select
        lines.transaction_line_id as invoice_line_id,
        lines.transaction_id as invoice_id,
        transactions.transaction_number as invoice_number,
        case transactions.transaction_type
            when 'CustInvc' then 'invoice'
            when 'CustCred' then 'credit_memo'
        end as invoice_type,
        lines.line_number,
        lines.item_id,
        items.item_code,
        roles.role_code,
        {{ dbt.safe_cast('lines.psa_project_id', 'bigint') }} as psa_project_id,
        transactions.customer_id,
        transactions.legal_entity_id,
        transactions.opportunity_id,
        transactions.credited_invoice_id,
        transactions.is_credited_in_full,
        transactions.transaction_date as invoice_date,
        transactions.period_id,
        lines.memo,
        lines.quantity,
        lines.rate,
        transactions.currency,
        lines.net_amount,
        transactions.tax_level,
        {{ is_taxable }} as is_taxable,
        {{ applied_tax_code_id }} as tax_code_id,
        tax_codes.tax_code,
        tax_codes.tax_rate_percent,
        lines.tax_amount,
        transactions.exchange_rate,
        transactions.functional_currency,
        {{ convert_money('lines.net_amount', 'transactions.exchange_rate') }} as net_amount_functional,
        transactions.reporting_currency,
        {{ convert_money(convert_money('lines.net_amount', 'transactions.exchange_rate'), 'transactions.functional_to_reporting_rate') }} as net_amount_reporting,
        lines.modified_at,
        'erp' as source_system,
        cast(lines.transaction_line_id as {{ dbt.type_string() }}) as source_record_id
    from lines
    inner join transactions
        on lines.transaction_id = transactions.transaction_id
    left join items
        on lines.item_id = items.item_id
    left join roles
        on items.item_code = roles.erp_item_code
    left join tax_codes
        on {{ applied_tax_code_id }} = tax_codes.tax_code_id
)

select * from final
