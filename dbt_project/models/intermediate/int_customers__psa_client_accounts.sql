-- The CRM account each PSA client belongs to, through its projects: project code = Opportunity Id,
-- and the opportunity's AccountId. Only won deals count (a project coded to a lost or unknown deal
-- is a data-entry mistake, not evidence of who the client is). When a client's projects point at
-- several accounts, the account with the most projects wins, then the lowest id.
with

project_opportunities as (
    select * from {{ ref('int_projects__opportunities') }}
),

account_votes as (
    select
        client_id,
        account_id,
        count(*) as project_count
    from project_opportunities
    where is_opportunity_won
        and account_id is not null
    group by
        client_id,
        account_id
),

ranked as (
    select
        account_votes.*,
        row_number() over (
            partition by client_id
            order by project_count desc, account_id
        ) as vote_rank,
        count(*) over (partition by client_id) as candidate_account_count
    from account_votes
),

final as (
    select
        client_id,
        account_id,
        project_count,
        candidate_account_count
    from ranked
    where vote_rank = 1
)

select * from final
