-- The open exceptions are exactly what the marts detect now (reporting drift: the contract's
-- reasons): the history merge neither loses a detection nor keeps a fixed one open.
{%- set marts = ['unbilled_approved_time', 'billed_time_missing_invoice', 'missing_tax_codes',
                 'invoice_rate_variance', 'booking_drift', 'projects_without_contract',
                 'duplicate_customers', 'invoice_currency_mismatch'] %}

with

current_detections as (
    {%- for mart in marts %}
    select exception_type, source_system, source_record_id from {{ ref(mart) }}
    union
    {%- endfor %}
    select exception_type, source_system, source_record_id from {{ ref('reporting_drift') }}
    where is_contract_reason
),

open_exceptions as (
    select exception_type, source_system, source_record_id from {{ ref('exceptions') }}
    where status = 'open'
),

missing_from_queue as (
    select current_detections.*, 'detected but not open' as problem
    from current_detections
    where not exists (
        select 1 from open_exceptions
        where open_exceptions.exception_type = current_detections.exception_type
            and open_exceptions.source_system = current_detections.source_system
            and open_exceptions.source_record_id = current_detections.source_record_id
    )
),

stale_in_queue as (
    select open_exceptions.*, 'open but no longer detected' as problem
    from open_exceptions
    where not exists (
        select 1 from current_detections
        where current_detections.exception_type = open_exceptions.exception_type
            and current_detections.source_system = open_exceptions.source_system
            and current_detections.source_record_id = open_exceptions.source_record_id
    )
)

select * from missing_from_queue
union all
select * from stale_in_queue
