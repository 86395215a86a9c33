with

source as (
    select * from {{ source('erp', 'customer') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as customer_id,
        cast(parent as integer) as parent_customer_id,
        cast(subsidiary as integer) as subsidiary_id,
        cast(currency as integer) as currency_id,
        nullif(trim(externalid), '') as crm_account_id,
        -- strings
        entityid as entity_code,
        companyname as customer_name,
        email,
        -- profile: links.customer_country (a custom field, or the subsidiary's country downstream)
        {%- if var('q2c_customer_country_link') == 'subsidiary' %}
        cast(null as {{ dbt.type_string() }}) as billing_country,
        {%- else %}
        {{ erp_field('customer_country') }} as billing_country,
        {%- endif %}
        -- booleans
        {{ netsuite_bool('isinactive') }} as is_inactive,
        -- dates
        {{ netsuite_timestamp('datecreated') }} as created_at,
        lastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
