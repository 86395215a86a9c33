-- One row per PSA project: how it bills, the golden customer and legal entity it serves, and the
-- CRM deal it delivers. The integration key is exact: the project code is the won deal's 18-character
-- Opportunity Id (deal_opportunity_id); a code that only resolves leniently (15-character form) or
-- to a lost deal is kept apart (matched_opportunity_id, opportunity_match_rule).
with

projects as (
    select * from {{ ref('stg_harvest__projects') }}
    where not is_deleted
),

project_opportunities as (
    select * from {{ ref('int_projects__opportunities') }}
),

crosswalk as (
    select * from {{ ref('int_customers__matched') }}
    where source_system = 'psa'
),

customers as (
    select * from {{ ref('customers') }}
),

final as (
    select
        projects.project_id,
        projects.opportunity_id,
        case
            when project_opportunities.opportunity_match_rule = 'exact_id' and project_opportunities.is_opportunity_won
                then project_opportunities.opportunity_id
        end as deal_opportunity_id,
        project_opportunities.opportunity_id as matched_opportunity_id,
        project_opportunities.opportunity_match_rule,
        case
            when project_opportunities.opportunity_match_rule = 'exact_id' and project_opportunities.is_opportunity_won
                then project_opportunities.contract_id
        end as contract_id,
        projects.client_id,
        crosswalk.customer_id,
        customers.legal_entity_id,
        projects.project_name,
        projects.client_name,
        projects.billing_method,
        projects.is_billable,
        projects.is_active,
        projects.currency,
        projects.budget,
        projects.budget_by,
        projects.fee,
        projects.starts_on,
        projects.ends_on,
        projects.created_at,
        projects.updated_at,
        'psa' as source_system,
        cast(projects.project_id as {{ dbt.type_string() }}) as source_record_id
    from projects
    left join project_opportunities
        on projects.project_id = project_opportunities.project_id
    left join crosswalk
        on cast(projects.client_id as {{ dbt.type_string() }}) = crosswalk.source_record_id
    left join customers
        on crosswalk.customer_id = customers.customer_id
)

select * from final
