-- Approved, billable time on time-and-materials projects, in a month that ended more than
-- `grace_days` before the as-of date, that no invoice has billed.
with

time_entries as (
    select * from {{ ref('time_entries') }}
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

final as (
    select
        'unbilled_approved_time' as exception_type,
        source_system,
        source_record_id,
        time_entry_id,
        project_id,
        user_id,
        role_name,
        spent_date,
        {{ dbt.concat(["cast(extract(year from service_month) as varchar)", "'-'", "lpad(cast(extract(month from service_month) as varchar), 2, '0')"]) }} as period,
        hours,
        billable_rate,
        currency,
        billable_amount as amount,
        {{ dbt.datediff('spent_date', as_of_date(), 'day') }} as age_days,
        case
            when {{ dbt.datediff('spent_date', as_of_date(), 'day') }} <= 30 then '0-30'
            when {{ dbt.datediff('spent_date', as_of_date(), 'day') }} <= 60 then '31-60'
            when {{ dbt.datediff('spent_date', as_of_date(), 'day') }} <= 90 then '61-90'
            else '90+'
        end as aging_bucket
    from unbilled
)

select * from final
