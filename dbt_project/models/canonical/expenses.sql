-- One row per live PSA expense, in the transaction currency (the client's currency in Harvest),
-- the legal entity's functional currency and the reporting currency, at the ERP's rates for the
-- period the expense was incurred (int_exchange_rates).
with

expenses as (
    select * from {{ ref('stg_harvest__expenses') }}
    where not is_deleted
),

projects as (
    select * from {{ ref('projects') }}
),

resources as (
    select * from {{ ref('resources') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

joined as (
    select
        expenses.*,
        projects.customer_id,
        projects.deal_opportunity_id as opportunity_id,
        coalesce(projects.legal_entity_id, resources.legal_entity_id) as legal_entity_id
    from expenses
    inner join projects
        on expenses.project_id = projects.project_id
    left join resources
        on expenses.user_id = resources.user_id
),

final as (
    select
        joined.expense_id,
        joined.project_id,
        joined.user_id,
        joined.client_id,
        joined.customer_id,
        joined.legal_entity_id,
        joined.opportunity_id,
        joined.expense_category_id,
        joined.expense_category_name,
        joined.spent_date,
        exchange_rates.period_id,
        joined.notes,
        joined.currency,
        joined.total_cost as amount,
        exchange_rates.functional_currency,
        {{ convert_money('joined.total_cost', 'exchange_rates.transaction_to_functional_rate') }} as amount_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('joined.total_cost', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as amount_reporting,
        joined.is_billable,
        joined.is_approved,
        joined.is_billed,
        joined.invoice_number,
        joined.created_at,
        joined.updated_at,
        'psa' as source_system,
        cast(joined.expense_id as {{ dbt.type_string() }}) as source_record_id
    from joined
    left join exchange_rates
        on joined.legal_entity_id = exchange_rates.legal_entity_id
        and joined.currency = exchange_rates.transaction_currency
        and joined.spent_date between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
