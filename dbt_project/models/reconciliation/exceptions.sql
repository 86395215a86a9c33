-- The exception queue: one row per exception the reconciliation has ever detected, open or
-- resolved, keyed by (exception_type, source_system, source_record_id) as the contract names them.
-- Incremental: each run merges its detections (the union of the marts) into the previous state:
--   detected now, new or resolved before  -> open, first_detected_at = this run (a resolved one
--                                            that comes back is reopened: reopened_count + 1);
--   detected now, open before             -> still open, first_detected_at kept, last_seen_at = now;
--   open before, not detected now         -> resolved, resolved_at = this run (never deleted);
--   resolved before, not detected now     -> untouched.
-- "This run" is macro detected_at(): var `detected_at`, else the as-of date, so runs are
-- deterministic. `full_refresh: false`: `dbt build --full-refresh` keeps the history.
-- Reporting drift becomes an exception only for the contract's reasons (see reporting_drift).
{{
    config(
        materialized='incremental',
        unique_key=['exception_type', 'source_system', 'source_record_id'],
        incremental_strategy='delete+insert',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

{%- set mart_columns = [
    'exception_type', 'source_system', 'source_record_id', 'legal_entity_id', 'legal_entity',
    'period', 'currency', 'amount', 'functional_currency', 'amount_functional',
    'reporting_currency', 'amount_reporting', 'occurred_on', 'details',
] %}

with

record_detections as (
    {%- for mart in ['unbilled_approved_time', 'billed_time_missing_invoice', 'missing_tax_codes',
                     'invoice_rate_variance', 'booking_drift', 'projects_without_contract',
                     'duplicate_customers', 'invoice_currency_mismatch'] %}
    select {{ mart_columns | join(', ') }}
    from {{ ref(mart) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

drift_reasons as (
    select * from {{ ref('reporting_drift') }}
    where is_contract_reason
),

-- one row per drifting period and entity: the PSA-vs-ERP difference when that is a reason, else
-- the value of the records that changed the closed period
drift_detections as (
    select
        'reporting_drift' as exception_type,
        'warehouse' as source_system,
        source_record_id,
        min(legal_entity_id) as legal_entity_id,
        min(legal_entity) as legal_entity,
        min(period) as period,
        min(currency) as currency,
        coalesce(
            sum(case when reason = 'psa_billed_vs_erp_invoiced' then amount end),
            sum(amount)
        ) as amount,
        min(functional_currency) as functional_currency,
        coalesce(
            sum(case when reason = 'psa_billed_vs_erp_invoiced' then amount_functional end),
            sum(amount_functional)
        ) as amount_functional,
        min(reporting_currency) as reporting_currency,
        coalesce(
            sum(case when reason = 'psa_billed_vs_erp_invoiced' then amount_reporting end),
            sum(amount_reporting)
        ) as amount_reporting,
        min(occurred_on) as occurred_on,
        {{ dbt.listagg('details', "'; '", 'order by reason') }} as details
    from drift_reasons
    group by source_record_id
),

detections as (
    select {{ mart_columns | join(', ') }} from record_detections
    union all
    select {{ mart_columns | join(', ') }} from drift_detections
),

{% if is_incremental() %}
previous as (
    select * from {{ this }}
),
{% endif %}

-- everything detected by this run
detected as (
    select
        detections.*,
        {% if is_incremental() -%}
        case
            when previous.status = 'open' then previous.first_detected_at
            else {{ detected_at() }}
        end as first_detected_at,
        cast(null as {{ dbt.type_timestamp() }}) as resolved_at,
        coalesce(previous.reopened_count, 0)
            + case when previous.status = 'resolved' then 1 else 0 end as reopened_count
        {%- else -%}
        {{ detected_at() }} as first_detected_at,
        cast(null as {{ dbt.type_timestamp() }}) as resolved_at,
        0 as reopened_count
        {%- endif %},
        {{ detected_at() }} as last_seen_at,
        'open' as status
    from detections
    {% if is_incremental() -%}
    left join previous
        on detections.exception_type = previous.exception_type
        and detections.source_system = previous.source_system
        and detections.source_record_id = previous.source_record_id
    {%- endif %}
),

{% if is_incremental() %}
-- open before, gone now: resolved, with everything else as last seen
resolved as (
    select
        {% for column in mart_columns -%}
        previous.{{ column }},
        {% endfor -%}
        previous.first_detected_at,
        {{ detected_at() }} as resolved_at,
        previous.reopened_count,
        previous.last_seen_at,
        'resolved' as status
    from previous
    where previous.status = 'open'
        and not exists (
            select 1
            from detections
            where detections.exception_type = previous.exception_type
                and detections.source_system = previous.source_system
                and detections.source_record_id = previous.source_record_id
        )
),
{% endif %}

merged as (
    select * from detected
    {% if is_incremental() -%}
    union all
    select * from resolved
    {%- endif %}
),

aged as (
    select
        merged.*,
        {{ dbt.datediff(
            'coalesce(merged.occurred_on, cast(merged.first_detected_at as date))',
            'coalesce(cast(merged.resolved_at as date), ' ~ as_of_date() ~ ')',
            'day'
        ) }} as age_days
    from merged
),

final as (
    select
        cast({{ dbt.hash(dbt.concat(['aged.exception_type', "'|'", 'aged.source_system', "'|'", 'aged.source_record_id'])) }} as {{ dbt.type_string() }}) as exception_id,
        cast(aged.exception_type as {{ dbt.type_string() }}) as exception_type,
        cast(aged.source_system as {{ dbt.type_string() }}) as source_system,
        cast(aged.source_record_id as {{ dbt.type_string() }}) as source_record_id,
        cast(aged.legal_entity_id as integer) as legal_entity_id,
        cast(aged.legal_entity as {{ dbt.type_string() }}) as legal_entity,
        cast(aged.period as {{ dbt.type_string() }}) as period,
        cast(aged.currency as {{ dbt.type_string() }}) as currency,
        cast(aged.amount as {{ money_type() }}) as amount,
        cast(aged.functional_currency as {{ dbt.type_string() }}) as functional_currency,
        cast(aged.amount_functional as {{ money_type() }}) as amount_functional,
        cast(aged.reporting_currency as {{ dbt.type_string() }}) as reporting_currency,
        cast(aged.amount_reporting as {{ money_type() }}) as amount_reporting,
        cast(aged.occurred_on as date) as occurred_on,
        cast(aged.first_detected_at as {{ dbt.type_timestamp() }}) as first_detected_at,
        cast(aged.last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(aged.resolved_at as {{ dbt.type_timestamp() }}) as resolved_at,
        cast(aged.status as {{ dbt.type_string() }}) as status,
        cast(aged.age_days as integer) as age_days,
        cast({{ aging_bucket('aged.age_days') }} as {{ dbt.type_string() }}) as aging_bucket,
        cast(aged.reopened_count as integer) as reopened_count,
        cast(aged.details as {{ dbt.type_string() }}) as details
    from aged
)

select * from final
