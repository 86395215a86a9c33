-- Every live customer record of the three systems, one row each, with what the customer master
-- matches on: the integration key to a CRM account where the record carries one (ERP externalid),
-- and the normalized name with the country (PSA clients' country comes from their address; ERP
-- customers' from the profile's custom field, or their subsidiary's, links.customer_country).
with

accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
    where not is_deleted
),

erp_customers as (
    select * from {{ ref('stg_netsuite__customers') }}
    where not is_deleted
),

currencies as (
    select * from {{ ref('stg_netsuite__currencies') }}
),

subsidiaries as (
    select * from {{ ref('stg_netsuite__subsidiaries') }}
),

psa_clients as (
    select * from {{ ref('stg_harvest__clients') }}
    where not is_deleted
),

offices as (
    select * from {{ ref('lookup_offices') }}
),

crm_records as (
    select
        'crm' as source_system,
        accounts.account_id as source_record_id,
        accounts.account_name as source_name,
        upper(trim(accounts.billing_country)) as country_code,
        accounts.currency,
        cast(null as integer) as legal_entity_id,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        accounts.parent_account_id as parent_source_record_id,
        false as is_inactive,
        accounts.created_at
    from accounts
),

erp_records as (
    select
        'erp' as source_system,
        cast(erp_customers.customer_id as {{ dbt.type_string() }}) as source_record_id,
        erp_customers.customer_name as source_name,
        -- the billing country's custom field, or the subsidiary's (profile: links.customer_country)
        {%- if var('q2c_customer_country_link') == 'subsidiary' %}
        upper(trim(subsidiaries.country)) as country_code,
        {%- else %}
        upper(trim(erp_customers.billing_country)) as country_code,
        {%- endif %}
        currencies.currency,
        erp_customers.subsidiary_id as legal_entity_id,
        erp_customers.crm_account_id,
        cast(erp_customers.parent_customer_id as {{ dbt.type_string() }}) as parent_source_record_id,
        erp_customers.is_inactive,
        {{ as_utc_timestamp('erp_customers.created_at') }} as created_at
    from erp_customers
    left join currencies
        on erp_customers.currency_id = currencies.currency_id
    left join subsidiaries
        on erp_customers.subsidiary_id = subsidiaries.subsidiary_id
),

psa_records as (
    select
        'psa' as source_system,
        cast(psa_clients.client_id as {{ dbt.type_string() }}) as source_record_id,
        psa_clients.client_name as source_name,
        offices.country_code,
        psa_clients.currency,
        cast(null as integer) as legal_entity_id,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        cast(null as {{ dbt.type_string() }}) as parent_source_record_id,
        not psa_clients.is_active as is_inactive,
        psa_clients.created_at
    from psa_clients
    left join offices
        on trim(psa_clients.address) = offices.location
),

unioned as (
    select * from crm_records
    union all
    select * from erp_records
    union all
    select * from psa_records
),

normalized as (
    select
        unioned.*,
        nullif({{ normalize_company_name('unioned.source_name') }}, '') as normalized_name
    from unioned
),

final as (
    select
        source_system,
        source_record_id,
        source_name,
        normalized_name,
        country_code,
        -- null when either part is unknown: such a record only ever matches by integration key
        case
            when normalized_name is not null and country_code is not null
                then {{ dbt.concat(['country_code', "'|'", 'normalized_name']) }}
        end as name_key,
        currency,
        legal_entity_id,
        crm_account_id,
        parent_source_record_id,
        is_inactive,
        created_at
    from normalized
)

select * from final
