-- missing_tax_code (erp, invoice line uniquekey): a taxable invoice line (credit memos, and invoices
-- credited in full, excluded) without a tax code: its own, or, in an entity that carries tax on the
-- header (profile: tax.header_level_countries), the header's tax item; a line marked not taxable
-- needs none. The amount is the line's net amount, the tax base left untaxed.
with

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
        and not is_credited_in_full
        and is_taxable
        and tax_code_id is null
),

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

final as (
    select
        'missing_tax_code' as exception_type,
        invoice_lines.source_system,
        invoice_lines.source_record_id,
        invoice_lines.invoice_line_id,
        invoice_lines.invoice_id,
        invoice_lines.invoice_number,
        invoice_lines.line_number,
        invoice_lines.item_code,
        invoice_lines.customer_id,
        invoice_lines.opportunity_id,
        invoice_lines.invoice_date,
        periods.fiscal_month as period,
        invoice_lines.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        invoice_lines.currency,
        invoice_lines.net_amount as amount,
        invoice_lines.functional_currency,
        invoice_lines.net_amount_functional as amount_functional,
        invoice_lines.reporting_currency,
        invoice_lines.net_amount_reporting as amount_reporting,
        invoice_lines.invoice_date as occurred_on,
        {{ dbt.concat([
            "invoice_lines.invoice_number",
            "' line '",
            "cast(invoice_lines.line_number as " ~ dbt.type_string() ~ ")",
            "': no tax code'",
        ]) }} as details
    from invoice_lines
    left join periods
        on invoice_lines.period_id = periods.period_id
    left join legal_entities
        on invoice_lines.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
