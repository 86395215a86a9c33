-- Which ERP invoice billed each billed time entry: the one rule that pairs Harvest's time with
-- NetSuite's invoices. Harvest gives a billed entry the number of the invoice that billed it; a
-- live NetSuite invoice (not a credit memo) carries that number in the field the tenant profile
-- names (links.billed_time_invoice: tranid, otherrefnum or externalid, as
-- invoices.psa_invoice_number). One row per billed entry: an entry without a number, or whose
-- number no invoice carries, is unpaired (billed_time_missing_invoice); when two invoices carry
-- one number, the entry pairs with the first (lowest id) and `paired_invoice_count` says so.
with

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_billed
),

invoices as (
    select * from {{ ref('invoices') }}
    where invoice_type = 'invoice'
        and psa_invoice_number is not null
),

by_number as (
    select
        psa_invoice_number,
        min(invoice_id) as invoice_id,
        count(*) as invoice_count
    from invoices
    group by psa_invoice_number
),

final as (
    select
        time_entries.time_entry_id,
        time_entries.source_record_id,
        time_entries.invoice_number,
        by_number.invoice_id,
        invoices.created_at as invoice_created_at,
        invoices.period_id as invoice_period_id,
        invoices.legal_entity_id as invoice_legal_entity_id,
        coalesce(by_number.invoice_count, 0) as paired_invoice_count,
        (by_number.invoice_id is not null) as is_paired
    from time_entries
    left join by_number
        on time_entries.invoice_number = by_number.psa_invoice_number
    left join invoices
        on by_number.invoice_id = invoices.invoice_id
)

select * from final
