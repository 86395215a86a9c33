-- Which ERP invoice billed each billed time entry: the one rule that pairs Harvest's time with
-- NetSuite's invoices. Harvest gives a billed entry the number of the invoice that billed it; a
-- live NetSuite invoice (not a credit memo) carries that number in the field the tenant profile
-- names (links.billed_time_invoice: tranid, otherrefnum or externalid, as
-- invoices.psa_invoice_number). One row per billed entry: an entry without a number, or whose
-- number no invoice carries, is unpaired (billed_time_missing_invoice); when two invoices carry
-- one number, the entry pairs with one of them and `paired_invoice_count` says so: an invoice not
-- credited in full before one that is (credit-and-rebill: the rebill, which carries the credited
-- invoice's number, bills the time), then the lowest id. Time whose invoice is credited in full
-- with no rebill is paired with it (`is_invoice_credited_in_full`).
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

ranked as (
    select
        psa_invoice_number,
        invoice_id,
        count(*) over (partition by psa_invoice_number) as invoice_count,
        row_number() over (
            partition by psa_invoice_number
            order by case when is_credited_in_full then 1 else 0 end, invoice_id
        ) as preference
    from invoices
),

by_number as (
    select
        psa_invoice_number,
        invoice_id,
        invoice_count
    from ranked
    where preference = 1
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
        coalesce(invoices.is_credited_in_full, false) as is_invoice_credited_in_full,
        coalesce(by_number.invoice_count, 0) as paired_invoice_count,
        (by_number.invoice_id is not null) as is_paired
    from time_entries
    left join by_number
        on time_entries.invoice_number = by_number.psa_invoice_number
    left join invoices
        on by_number.invoice_id = invoices.invoice_id
)

select * from final
