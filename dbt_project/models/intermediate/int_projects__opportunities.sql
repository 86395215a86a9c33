-- Which CRM opportunity each PSA project delivers. Harvest's project code is the Opportunity Id:
-- the 18-character id matches exactly; a 15-character code is Salesforce's case-sensitive short
-- form of the same id and matches the first 15 characters. Anything else matches nothing.
with

projects as (
    select * from {{ ref('stg_harvest__projects') }}
    where not is_deleted
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
),

exact_id_matches as (
    select
        projects.project_id,
        opportunities.opportunity_id
    from projects
    inner join opportunities
        on projects.opportunity_id = opportunities.opportunity_id
),

short_id_matches as (
    select
        projects.project_id,
        opportunities.opportunity_id
    from projects
    inner join opportunities
        on {{ dbt.length('projects.opportunity_id') }} = 15
        and substring(opportunities.opportunity_id, 1, 15) = projects.opportunity_id
),

final as (
    select
        projects.project_id,
        projects.client_id,
        projects.opportunity_id as project_code,
        coalesce(exact_id_matches.opportunity_id, short_id_matches.opportunity_id) as opportunity_id,
        case
            when projects.opportunity_id is null then 'missing_code'
            when exact_id_matches.opportunity_id is not null then 'exact_id'
            when short_id_matches.opportunity_id is not null then 'salesforce_15_char_id'
            else 'unknown_opportunity'
        end as opportunity_match_rule,
        opportunities.account_id,
        opportunities.contract_id,
        opportunities.is_won as is_opportunity_won,
        opportunities.currency as opportunity_currency
    from projects
    left join exact_id_matches
        on projects.project_id = exact_id_matches.project_id
    left join short_id_matches
        on projects.project_id = short_id_matches.project_id
    left join opportunities
        on coalesce(exact_id_matches.opportunity_id, short_id_matches.opportunity_id) = opportunities.opportunity_id
)

select * from final
