-- One row per PSA time entry with its billable value in the project's (transaction) currency.
with

time_entries as (
    select * from {{ ref('stg_harvest__time_entries') }}
),

projects as (
    select * from {{ ref('projects') }}
),

final as (
    select
        time_entries.time_entry_id,
        time_entries.project_id,
        time_entries.user_id,
        time_entries.task_id,
        time_entries.client_id,
        time_entries.task_name as role_name,
        time_entries.spent_date,
        {{ dbt.date_trunc('month', 'time_entries.spent_date') }} as service_month,
        time_entries.hours,
        time_entries.billable_rate,
        time_entries.cost_rate,
        time_entries.currency,
        cast(
            case when time_entries.is_billable then time_entries.hours * time_entries.billable_rate end
            as decimal(18, 2)
        ) as billable_amount,
        time_entries.is_approved,
        time_entries.is_billable,
        time_entries.is_billed,
        time_entries.invoice_number,
        projects.billing_method,
        projects.is_billable as is_billable_project,
        time_entries.created_at,
        time_entries.updated_at,
        'psa' as source_system,
        cast(time_entries.time_entry_id as varchar) as source_record_id
    from time_entries
    left join projects
        on time_entries.project_id = projects.project_id
)

select * from final
