-- billed_time_missing_invoice (psa, time entry id): Harvest says the entry is billed, but no live
-- ERP invoice carries its invoice number (or it has none), in the field the tenant profile names
-- (links.billed_time_invoice: tranid, otherrefnum or externalid): the entries the pairing of
-- time and invoices (int_reconciliation__billed_time_invoices) leaves unpaired. Any project, any
-- approval state.
with

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_billed
),

pairing as (
    select * from {{ ref('int_reconciliation__billed_time_invoices') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

missing as (
    select time_entries.*
    from time_entries
    inner join pairing
        on time_entries.time_entry_id = pairing.time_entry_id
    where not pairing.is_paired
),

final as (
    select
        'billed_time_missing_invoice' as exception_type,
        missing.source_system,
        missing.source_record_id,
        missing.time_entry_id,
        missing.project_id,
        missing.user_id,
        missing.customer_id,
        missing.opportunity_id,
        missing.invoice_number,
        missing.spent_date,
        {{ year_month('missing.service_month') }} as period,
        missing.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        missing.hours,
        missing.billable_rate,
        missing.currency,
        missing.billable_amount as amount,
        missing.functional_currency,
        missing.billable_amount_functional as amount_functional,
        missing.reporting_currency,
        missing.billable_amount_reporting as amount_reporting,
        missing.spent_date as occurred_on,
        {{ dbt.concat([
            "'billed on '",
            "coalesce(missing.invoice_number, '(no invoice number)')",
            "', which the ERP does not have'",
        ]) }} as details
    from missing
    left join legal_entities
        on missing.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
