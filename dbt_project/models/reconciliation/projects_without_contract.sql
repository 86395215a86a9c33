-- project_without_contract (psa, project id): a billable project (time and materials or fixed
-- fee) whose code is not the exact Id of a won, live deal (blank, unknown, the 15-character form of
-- an Id, a lost deal's Id), or that was created (created_at's UTC date) before that deal's close
-- date. The amount is what the project delivers without a contract: its approved billable time
-- (T&M) or its fee (fixed fee), in the project's currency.
with

projects as (
    select * from {{ ref('projects') }}
    where is_billable
),

deals as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won
        and not is_deleted
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
),

time_entries as (
    select * from {{ ref('time_entries') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

delivered as (
    select
        project_id,
        min(legal_entity_id) as worked_legal_entity_id,
        sum(case when is_approved and is_billable then billable_amount end) as delivered_amount,
        sum(case when is_approved and is_billable then billable_amount_functional end) as delivered_amount_functional,
        sum(case when is_approved and is_billable then billable_amount_reporting end) as delivered_amount_reporting
    from time_entries
    group by project_id
),

checked as (
    select
        projects.*,
        {{ utc_date('projects.created_at') }} as created_on,
        deals.opportunity_id as deal_id,
        deals.close_date as deal_close_date,
        case
            when projects.opportunity_id is null then 'missing_code'
            when deals.opportunity_id is null and opportunities.opportunity_id is not null then 'opportunity_not_won'
            when deals.opportunity_id is null and {{ dbt.length('projects.opportunity_id') }} = 15 then 'salesforce_15_char_id'
            when deals.opportunity_id is null then 'unknown_opportunity'
            when {{ utc_date('projects.created_at') }} < deals.close_date then 'created_before_close'
        end as reason
    from projects
    left join deals
        on projects.opportunity_id = deals.opportunity_id
    left join opportunities
        on projects.opportunity_id = opportunities.opportunity_id
),

flagged as (
    select
        checked.*,
        coalesce(checked.legal_entity_id, delivered.worked_legal_entity_id) as entity_id,
        case
            when checked.billing_method = 'fixed_fee' then checked.fee
            else cast(coalesce(delivered.delivered_amount, 0) as {{ money_type() }})
        end as at_risk_amount,
        delivered.delivered_amount_functional,
        delivered.delivered_amount_reporting
    from checked
    left join delivered
        on checked.project_id = delivered.project_id
    where checked.reason is not null
),

final as (
    select
        'project_without_contract' as exception_type,
        flagged.source_system,
        flagged.source_record_id,
        flagged.project_id,
        flagged.project_name,
        flagged.opportunity_id as project_code,
        flagged.matched_opportunity_id,
        flagged.customer_id,
        flagged.billing_method,
        flagged.reason,
        flagged.created_on,
        flagged.deal_close_date,
        {{ year_month('flagged.created_on') }} as period,
        flagged.entity_id as legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        flagged.currency,
        cast(flagged.at_risk_amount as {{ money_type() }}) as amount,
        exchange_rates.functional_currency,
        case
            when flagged.billing_method = 'fixed_fee'
                then {{ convert_money('flagged.at_risk_amount', 'exchange_rates.transaction_to_functional_rate') }}
            else cast(coalesce(flagged.delivered_amount_functional, 0) as {{ money_type() }})
        end as amount_functional,
        exchange_rates.reporting_currency,
        case
            when flagged.billing_method = 'fixed_fee'
                then {{ convert_money(convert_money('flagged.at_risk_amount', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }}
            else cast(coalesce(flagged.delivered_amount_reporting, 0) as {{ money_type() }})
        end as amount_reporting,
        flagged.created_on as occurred_on,
        case flagged.reason
            when 'missing_code' then 'project has no code (Opportunity Id)'
            when 'created_before_close' then {{ dbt.concat([
                "'project created '",
                "cast(flagged.created_on as " ~ dbt.type_string() ~ ")",
                "' before its deal closed on '",
                "cast(flagged.deal_close_date as " ~ dbt.type_string() ~ ")",
            ]) }}
            else {{ dbt.concat(["'code '", "flagged.opportunity_id", "' is not a won deal ('", "flagged.reason", "')'"]) }}
        end as details
    from flagged
    left join legal_entities
        on flagged.entity_id = legal_entities.legal_entity_id
    left join exchange_rates
        on flagged.entity_id = exchange_rates.legal_entity_id
        and flagged.currency = exchange_rates.transaction_currency
        and flagged.created_on between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
