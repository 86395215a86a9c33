-- Every live source customer record (CRM account, ERP customer, PSA client) and the golden
-- customer it belongs to, with the rule that matched it (see int_customers__matched).
with

matched as (
    select * from {{ ref('int_customers__matched') }}
),

source_records as (
    select * from {{ ref('int_customers__source_records') }}
),

final as (
    select
        {{ dbt.concat(['matched.source_system', "':'", 'matched.source_record_id']) }} as crosswalk_id,
        matched.customer_id,
        matched.source_system,
        matched.source_record_id,
        source_records.source_name,
        source_records.normalized_name,
        source_records.country_code,
        matched.match_rule,
        matched.is_anchor,
        matched.anchor_system,
        matched.anchor_record_id,
        source_records.is_inactive
    from matched
    inner join source_records
        on matched.source_system = source_records.source_system
        and matched.source_record_id = source_records.source_record_id
)

select * from final
