-- One row per legal entity (NetSuite subsidiary) with its functional currency and the group's
-- reporting currency (the root entity's).
with

subsidiaries as (
    select * from {{ ref('stg_netsuite__subsidiaries') }}
    where not is_deleted
),

currencies as (
    select * from {{ ref('stg_netsuite__currencies') }}
),

reporting_entity as (
    select
        subsidiaries.subsidiary_id,
        currencies.currency as reporting_currency
    from subsidiaries
    inner join currencies
        on subsidiaries.currency_id = currencies.currency_id
    where subsidiaries.parent_subsidiary_id is null
),

final as (
    select
        subsidiaries.subsidiary_id as legal_entity_id,
        subsidiaries.subsidiary_name as legal_entity_name,
        subsidiaries.country as country_code,
        currencies.currency as functional_currency,
        reporting_entity.reporting_currency,
        subsidiaries.parent_subsidiary_id as parent_legal_entity_id,
        (subsidiaries.subsidiary_id = reporting_entity.subsidiary_id) as is_reporting_entity,
        subsidiaries.is_elimination,
        subsidiaries.modified_at,
        'erp' as source_system,
        cast(subsidiaries.subsidiary_id as {{ dbt.type_string() }}) as source_record_id
    from subsidiaries
    inner join currencies
        on subsidiaries.currency_id = currencies.currency_id
    cross join reporting_entity
)

select * from final
