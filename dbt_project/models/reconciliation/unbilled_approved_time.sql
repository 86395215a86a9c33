-- unbilled_approved_time (psa, time entry id): approved, billable time on a billable time-and-
-- materials project, in a month that ended more than `grace_days` before the as-of date, that no
-- invoice has billed. Contract: last_day(spent_date) + grace < today. Aged from the day worked.
with

time_entries as (
    select * from {{ ref('time_entries') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

unbilled as (
    select *
    from time_entries
    where is_approved
        and is_billable
        and is_billable_project
        and billing_method = 'time_and_materials'
        and not is_billed
        and {{ dbt.dateadd('day', var('grace_days'), dbt.last_day('service_month', 'month')) }}
            < {{ as_of_date() }}
),

aged as (
    select
        unbilled.*,
        {{ dbt.datediff('unbilled.spent_date', as_of_date(), 'day') }} as age_days
    from unbilled
),

final as (
    select
        'unbilled_approved_time' as exception_type,
        aged.source_system,
        aged.source_record_id,
        aged.time_entry_id,
        aged.project_id,
        aged.user_id,
        aged.customer_id,
        aged.opportunity_id,
        aged.role_name,
        aged.spent_date,
        {{ year_month('aged.service_month') }} as period,
        aged.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        aged.hours,
        aged.billable_rate,
        aged.currency,
        aged.billable_amount as amount,
        aged.functional_currency,
        aged.billable_amount_functional as amount_functional,
        aged.reporting_currency,
        aged.billable_amount_reporting as amount_reporting,
        aged.spent_date as occurred_on,
        aged.age_days,
        {{ aging_bucket('aged.age_days') }} as aging_bucket,
        {{ dbt.concat([
            "cast(aged.hours as " ~ dbt.type_string() ~ ")",
            "' h approved on project '",
            "cast(aged.project_id as " ~ dbt.type_string() ~ ")",
            "' for '",
            "cast(aged.spent_date as " ~ dbt.type_string() ~ ")",
            "', not billed'",
        ]) }} as details
    from aged
    left join legal_entities
        on aged.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
