-- One golden customer per real customer, built from the crosswalk. The ERP is the system of
-- record for billing attributes (legal entity, currency, billing country), the CRM for the account
-- hierarchy and the name; a customer the CRM does not know falls back to its ERP, then PSA record.
with

crosswalk as (
    select * from {{ ref('int_customers__matched') }}
),

source_records as (
    select * from {{ ref('int_customers__source_records') }}
),

projects as (
    select * from {{ ref('stg_harvest__projects') }}
    where not is_deleted
),

members as (
    select
        crosswalk.customer_id,
        crosswalk.match_rule,
        crosswalk.is_anchor,
        source_records.*
    from crosswalk
    inner join source_records
        on crosswalk.source_system = source_records.source_system
        and crosswalk.source_record_id = source_records.source_record_id
),

anchors as (
    select * from members
    where is_anchor
),

-- the ERP customer that carries the billing attributes: the one keyed to the CRM, else an active
-- one, else the earliest
erp_ranked as (
    select
        members.*,
        row_number() over (
            partition by customer_id
            order by
                case when match_rule = 'erp_external_id' then 0 else 1 end,
                case when is_inactive then 1 else 0 end,
                created_at,
                source_record_id
        ) as erp_rank
    from members
    where source_system = 'erp'
),

erp_primary as (
    select * from erp_ranked
    where erp_rank = 1
),

psa_ranked as (
    select
        members.*,
        row_number() over (
            partition by customer_id
            order by
                case when match_rule = 'psa_project_opportunity' then 0 else 1 end,
                created_at,
                source_record_id
        ) as psa_rank
    from members
    where source_system = 'psa'
),

psa_primary as (
    select * from psa_ranked
    where psa_rank = 1
),

member_counts as (
    select
        customer_id,
        sum(case when source_system = 'crm' then 1 else 0 end) as crm_record_count,
        sum(case when source_system = 'erp' then 1 else 0 end) as erp_record_count,
        sum(case when source_system = 'psa' then 1 else 0 end) as psa_record_count,
        min(created_at) as first_seen_at
    from members
    group by customer_id
),

billable_clients as (
    select distinct
        cast(client_id as {{ dbt.type_string() }}) as client_id
    from projects
    where is_billable
),

psa_billable as (
    select
        members.customer_id,
        count(billable_clients.client_id) as billable_client_count
    from members
    left join billable_clients
        on members.source_record_id = billable_clients.client_id
    where members.source_system = 'psa'
    group by members.customer_id
),

-- the hierarchy: the CRM anchor's parent account (else the ERP customer's parent)
parents as (
    select
        anchors.customer_id,
        coalesce(crm_parent.customer_id, erp_parent.customer_id) as parent_customer_id
    from anchors
    left join erp_primary
        on anchors.customer_id = erp_primary.customer_id
    left join crosswalk as crm_parent
        on anchors.source_system = 'crm'
        and crm_parent.source_system = 'crm'
        and anchors.parent_source_record_id = crm_parent.source_record_id
    left join crosswalk as erp_parent
        on anchors.source_system <> 'crm'
        and erp_parent.source_system = 'erp'
        and erp_primary.parent_source_record_id = erp_parent.source_record_id
),

final as (
    select
        anchors.customer_id,
        coalesce(crm_anchor.source_name, erp_primary.source_name, psa_primary.source_name) as customer_name,
        anchors.normalized_name,
        coalesce(erp_primary.country_code, crm_anchor.country_code, psa_primary.country_code) as country_code,
        erp_primary.legal_entity_id,
        coalesce(erp_primary.currency, crm_anchor.currency, psa_primary.currency) as currency,
        case
            when parents.parent_customer_id <> anchors.customer_id then parents.parent_customer_id
        end as parent_customer_id,
        crm_anchor.source_record_id as crm_account_id,
        cast(erp_primary.source_record_id as integer) as erp_customer_id,
        cast(psa_primary.source_record_id as bigint) as psa_client_id,
        cast(member_counts.crm_record_count as integer) as crm_record_count,
        cast(member_counts.erp_record_count as integer) as erp_record_count,
        cast(member_counts.psa_record_count as integer) as psa_record_count,
        (
            member_counts.crm_record_count = 0
            and member_counts.erp_record_count = 0
            and coalesce(psa_billable.billable_client_count, 0) = 0
        ) as is_internal,
        member_counts.first_seen_at,
        anchors.source_system,
        anchors.source_record_id
    from anchors
    inner join member_counts
        on anchors.customer_id = member_counts.customer_id
    left join anchors as crm_anchor
        on anchors.customer_id = crm_anchor.customer_id
        and crm_anchor.source_system = 'crm'
    left join erp_primary
        on anchors.customer_id = erp_primary.customer_id
    left join psa_primary
        on anchors.customer_id = psa_primary.customer_id
    left join psa_billable
        on anchors.customer_id = psa_billable.customer_id
    left join parents
        on anchors.customer_id = parents.customer_id
)

select * from final
