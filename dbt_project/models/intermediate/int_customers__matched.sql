-- The customer master's crosswalk: every live source customer record and the golden customer it
-- belongs to, with the rule that put it there. Rules, strongest first:
--   1. CRM accounts that normalize to the same name in the same country are one customer; the
--      earliest created account is the anchor (`crm_account`), the others `crm_name_country`.
--   2. Integration keys: an ERP customer's externalid is a CRM Account Id (`erp_external_id`), or,
--      without one, its transactions name won deals of an account (`erp_transaction_opportunity`);
--      a PSA client reaches an account through its projects' won deals (`psa_project_opportunity`).
--   3. Normalized name + country against the customers found so far, CRM anchors first
--      (`erp_name_country`, `psa_name_country`).
--   4. What is still unmatched is grouped by name + country among itself, ERP before PSA, earliest
--      first; the first record is the anchor (`no_match`), the rest `<system>_name_country`.
-- A record without a name key (unknown country) only matches by integration key.
-- customer_id is a hash of the anchor record, so it is stable while the anchor lives.
with

source_records as (
    select * from {{ ref('int_customers__source_records') }}
),

psa_client_accounts as (
    select * from {{ ref('int_customers__psa_client_accounts') }}
),

erp_customer_accounts as (
    select * from {{ ref('int_customers__erp_customer_accounts') }}
),

-- 1. CRM accounts, clustered by name and country
crm_ranked as (
    select
        source_records.source_system,
        source_records.source_record_id,
        source_records.name_key,
        coalesce(source_records.name_key, {{ dbt.concat(["'crm:'", 'source_records.source_record_id']) }}) as cluster_key,
        row_number() over (
            partition by coalesce(source_records.name_key, {{ dbt.concat(["'crm:'", 'source_records.source_record_id']) }})
            order by source_records.created_at, source_records.source_record_id
        ) as cluster_rank
    from source_records
    where source_records.source_system = 'crm'
),

crm_anchors as (
    select
        cluster_key,
        source_record_id as anchor_record_id
    from crm_ranked
    where cluster_rank = 1
),

crm_matched as (
    select
        crm_ranked.source_system,
        crm_ranked.source_record_id,
        'crm' as anchor_system,
        crm_anchors.anchor_record_id,
        case when crm_ranked.cluster_rank = 1 then 'crm_account' else 'crm_name_country' end as match_rule
    from crm_ranked
    inner join crm_anchors
        on crm_ranked.cluster_key = crm_anchors.cluster_key
),

-- 2. integration keys to a CRM account
integration_keys as (
    select
        source_system,
        source_record_id,
        crm_account_id,
        'erp_external_id' as match_rule
    from source_records
    where source_system = 'erp'
        and crm_account_id is not null

    union all

    -- without an externalid: the account of the won deals its transactions name
    select
        source_records.source_system,
        source_records.source_record_id,
        erp_customer_accounts.account_id as crm_account_id,
        'erp_transaction_opportunity' as match_rule
    from erp_customer_accounts
    inner join source_records
        on source_records.source_system = 'erp'
        and source_records.source_record_id = cast(erp_customer_accounts.customer_id as {{ dbt.type_string() }})
    where source_records.crm_account_id is null

    union all

    select
        'psa' as source_system,
        cast(client_id as {{ dbt.type_string() }}) as source_record_id,
        account_id as crm_account_id,
        'psa_project_opportunity' as match_rule
    from psa_client_accounts
),

key_matched as (
    select
        source_records.source_system,
        source_records.source_record_id,
        crm_matched.anchor_system,
        crm_matched.anchor_record_id,
        integration_keys.match_rule
    from source_records
    inner join integration_keys
        on source_records.source_system = integration_keys.source_system
        and source_records.source_record_id = integration_keys.source_record_id
    inner join crm_matched
        on integration_keys.crm_account_id = crm_matched.source_record_id
),

-- 3. name + country against the customers found so far
name_directory_candidates as (
    select
        crm_ranked.name_key,
        crm_matched.anchor_system,
        crm_matched.anchor_record_id,
        1 as priority
    from crm_matched
    inner join crm_ranked
        on crm_matched.source_record_id = crm_ranked.source_record_id
    where crm_ranked.name_key is not null

    union all

    select
        source_records.name_key,
        key_matched.anchor_system,
        key_matched.anchor_record_id,
        2 as priority
    from key_matched
    inner join source_records
        on key_matched.source_system = source_records.source_system
        and key_matched.source_record_id = source_records.source_record_id
    where source_records.name_key is not null
),

name_directory_ranked as (
    select
        name_directory_candidates.*,
        row_number() over (
            partition by name_key
            order by priority, anchor_record_id
        ) as directory_rank
    from name_directory_candidates
),

name_directory as (
    select
        name_key,
        anchor_system,
        anchor_record_id
    from name_directory_ranked
    where directory_rank = 1
),

not_key_matched as (
    select source_records.*
    from source_records
    left join key_matched
        on source_records.source_system = key_matched.source_system
        and source_records.source_record_id = key_matched.source_record_id
    where source_records.source_system <> 'crm'
        and key_matched.source_record_id is null
),

name_matched as (
    select
        not_key_matched.source_system,
        not_key_matched.source_record_id,
        name_directory.anchor_system,
        name_directory.anchor_record_id,
        {{ dbt.concat(['not_key_matched.source_system', "'_name_country'"]) }} as match_rule
    from not_key_matched
    inner join name_directory
        on not_key_matched.name_key = name_directory.name_key
),

-- 4. the rest, grouped among themselves
unmatched_ranked as (
    select
        not_key_matched.source_system,
        not_key_matched.source_record_id,
        coalesce(
            not_key_matched.name_key,
            {{ dbt.concat(['not_key_matched.source_system', "':'", 'not_key_matched.source_record_id']) }}
        ) as cluster_key,
        row_number() over (
            partition by coalesce(
                not_key_matched.name_key,
                {{ dbt.concat(['not_key_matched.source_system', "':'", 'not_key_matched.source_record_id']) }}
            )
            order by
                case not_key_matched.source_system when 'erp' then 1 else 2 end,
                not_key_matched.created_at,
                not_key_matched.source_record_id
        ) as cluster_rank
    from not_key_matched
    left join name_directory
        on not_key_matched.name_key = name_directory.name_key
    where name_directory.name_key is null
),

unmatched_anchors as (
    select
        cluster_key,
        source_system as anchor_system,
        source_record_id as anchor_record_id
    from unmatched_ranked
    where cluster_rank = 1
),

unmatched as (
    select
        unmatched_ranked.source_system,
        unmatched_ranked.source_record_id,
        unmatched_anchors.anchor_system,
        unmatched_anchors.anchor_record_id,
        case
            when unmatched_ranked.cluster_rank = 1 then 'no_match'
            else {{ dbt.concat(['unmatched_ranked.source_system', "'_name_country'"]) }}
        end as match_rule
    from unmatched_ranked
    inner join unmatched_anchors
        on unmatched_ranked.cluster_key = unmatched_anchors.cluster_key
),

unioned as (
    select * from crm_matched
    union all
    select * from key_matched
    union all
    select * from name_matched
    union all
    select * from unmatched
),

final as (
    select
        {{ dbt.hash(dbt.concat(['unioned.anchor_system', "':'", 'unioned.anchor_record_id'])) }} as customer_id,
        unioned.source_system,
        unioned.source_record_id,
        unioned.anchor_system,
        unioned.anchor_record_id,
        unioned.match_rule,
        (
            unioned.source_system = unioned.anchor_system
            and unioned.source_record_id = unioned.anchor_record_id
        ) as is_anchor
    from unioned
)

select * from final
