-- One row per consultant (Harvest user): role, home office and legal entity, and rates. A Harvest
-- user's roles are [role name, office]; the office's country gives the legal entity that employs them.
with

users as (
    select * from {{ ref('stg_harvest__users') }}
    where not is_deleted
),

role_codes as (
    select * from {{ ref('role_codes') }}
),

harvest_locations as (
    select * from {{ ref('harvest_locations') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

parsed as (
    select
        users.*,
        {{ json_array_text_element('users.roles_json', 0) }} as role_name,
        {{ json_array_text_element('users.roles_json', 1) }} as office
    from users
),

final as (
    select
        parsed.user_id,
        parsed.user_name as resource_name,
        parsed.first_name,
        parsed.last_name,
        parsed.email,
        parsed.role_name,
        role_codes.role_code,
        parsed.office,
        harvest_locations.country_code,
        legal_entities.legal_entity_id,
        legal_entities.functional_currency as currency,
        parsed.default_hourly_rate,
        parsed.cost_rate,
        parsed.weekly_capacity,
        parsed.timezone,
        parsed.is_contractor,
        parsed.is_active,
        parsed.created_at,
        parsed.updated_at,
        'psa' as source_system,
        cast(parsed.user_id as {{ dbt.type_string() }}) as source_record_id
    from parsed
    left join role_codes
        on parsed.role_name = role_codes.role_name
    left join harvest_locations
        on parsed.office = harvest_locations.location
    left join legal_entities
        on harvest_locations.country_code = legal_entities.country_code
)

select * from final
