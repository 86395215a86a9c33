-- One row per live PSA time entry: its billable value in the transaction currency (the client's
-- currency in Harvest), in the legal entity's functional currency and in the reporting currency,
-- at the ERP's rates for the period worked (int_exchange_rates). The legal entity is the one that
-- bills the project's customer; internal time belongs to the consultant's own entity.
with

time_entries as (
    select * from {{ ref('stg_harvest__time_entries') }}
    where not is_deleted
),

projects as (
    select * from {{ ref('projects') }}
),

resources as (
    select * from {{ ref('resources') }}
),

roles as (
    select * from {{ ref('lookup_roles') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

valued as (
    select
        time_entries.*,
        {{ dbt.date_trunc('month', 'time_entries.spent_date') }} as service_month,
        cast(
            case when time_entries.is_billable then time_entries.hours * time_entries.billable_rate end
            as {{ money_type() }}
        ) as billable_amount,
        projects.billing_method,
        projects.is_billable as is_billable_project,
        projects.customer_id,
        projects.deal_opportunity_id as opportunity_id,
        coalesce(projects.legal_entity_id, resources.legal_entity_id) as legal_entity_id
    from time_entries
    inner join projects
        on time_entries.project_id = projects.project_id
    left join resources
        on time_entries.user_id = resources.user_id
),

final as (
    select
        valued.time_entry_id,
        valued.project_id,
        valued.user_id,
        valued.task_id,
        valued.client_id,
        valued.customer_id,
        valued.legal_entity_id,
        valued.opportunity_id,
        valued.task_name as role_name,
        roles.role_code,
        valued.spent_date,
        cast(valued.service_month as date) as service_month,
        exchange_rates.period_id,
        valued.hours,
        valued.billable_rate,
        valued.cost_rate,
        valued.currency,
        valued.billable_amount,
        exchange_rates.functional_currency,
        {{ convert_money('valued.billable_amount', 'exchange_rates.transaction_to_functional_rate') }} as billable_amount_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('valued.billable_amount', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as billable_amount_reporting,
        valued.is_approved,
        valued.is_billable,
        valued.is_billed,
        valued.invoice_number,
        valued.billing_method,
        valued.is_billable_project,
        valued.created_at,
        valued.updated_at,
        'psa' as source_system,
        cast(valued.time_entry_id as {{ dbt.type_string() }}) as source_record_id
    from valued
    left join roles
        on valued.task_name = roles.role_name
    left join exchange_rates
        on valued.legal_entity_id = exchange_rates.legal_entity_id
        and valued.currency = exchange_rates.transaction_currency
        and valued.spent_date between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
