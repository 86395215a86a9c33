-- The CRM account each ERP customer belongs to, through the deals its transactions name (the
-- header deal field, tenant profile erp_fields.transaction_deal: sales orders carry it, and in
-- some firms invoices too). The evidence for an ERP customer without an externalid, which is
-- otherwise matched by name and country; a firm whose customers carry no country of their own
-- (links.customer_country via subsidiary) cannot match a customer billed from one subsidiary
-- for several countries any other way. Only won deals count; when a customer's transactions
-- point at several accounts, the account with the most transactions wins, then the lowest id.
with

transactions as (
    select * from {{ ref('stg_netsuite__transactions') }}
    where not is_deleted
        and opportunity_id is not null
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
        and is_won
),

account_votes as (
    select
        transactions.customer_id,
        opportunities.account_id,
        count(*) as transaction_count
    from transactions
    inner join opportunities
        on transactions.opportunity_id = opportunities.opportunity_id
    where opportunities.account_id is not null
    group by
        transactions.customer_id,
        opportunities.account_id
),

ranked as (
    select
        account_votes.*,
        row_number() over (
            partition by customer_id
            order by transaction_count desc, account_id
        ) as vote_rank,
        count(*) over (partition by customer_id) as candidate_account_count
    from account_votes
),

final as (
    select
        customer_id,
        account_id,
        transaction_count,
        candidate_account_count
    from ranked
    where vote_rank = 1
)

select * from final
