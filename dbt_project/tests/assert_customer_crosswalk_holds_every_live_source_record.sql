-- Every live CRM account, ERP customer and PSA client is in the customer crosswalk. Rows returned
-- are the records the master left out.
with

source_records as (
    select 'crm' as source_system, account_id as source_record_id
    from {{ ref('stg_salesforce__accounts') }}
    where not is_deleted

    union all

    select 'erp' as source_system, cast(customer_id as {{ dbt.type_string() }}) as source_record_id
    from {{ ref('stg_netsuite__customers') }}
    where not is_deleted

    union all

    select 'psa' as source_system, cast(client_id as {{ dbt.type_string() }}) as source_record_id
    from {{ ref('stg_harvest__clients') }}
    where not is_deleted
),

final as (
    select source_records.*
    from source_records
    left join {{ ref('customer_crosswalk') }} as crosswalk
        on source_records.source_system = crosswalk.source_system
        and source_records.source_record_id = crosswalk.source_record_id
    where crosswalk.crosswalk_id is null
)

select * from final
