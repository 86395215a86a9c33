-- One row per consultant (Harvest user): job role, home office and legal entity, and rates. Harvest has
-- no office field: a user's roles hold both, in any order. The first role that is one of the firm's
-- job roles (profile: vocabulary.roles) is the job role; the first that is one of its offices
-- (vocabulary.offices) is the home office, whose country gives the legal entity that employs them.
-- A role that is neither is listed in `unmapped_roles` (a warning test reports it).
with

users as (
    select * from {{ ref('stg_harvest__users') }}
    where not is_deleted
),

roles as (
    select * from {{ ref('lookup_roles') }}
),

offices as (
    select * from {{ ref('lookup_offices') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

user_roles as (
    select
        users.user_id,
        unnest({{ json_text_array('users.roles_json') }}) as harvest_role,
        generate_subscripts({{ json_text_array('users.roles_json') }}, 1) as role_position
    from users
),

classified as (
    select
        user_roles.user_id,
        user_roles.harvest_role,
        user_roles.role_position,
        roles.role_name,
        offices.location as office
    from user_roles
    left join roles
        on user_roles.harvest_role = roles.role_name
    left join offices
        on user_roles.harvest_role = offices.location
),

per_user as (
    select
        user_id,
        arg_min(role_name, role_position) filter (where role_name is not null) as role_name,
        arg_min(office, role_position) filter (where office is not null) as office,
        string_agg(
            case when role_name is null and office is null then harvest_role end,
            ', ' order by role_position
        ) as unmapped_roles
    from classified
    group by user_id
),

parsed as (
    select
        users.*,
        per_user.role_name,
        per_user.office,
        per_user.unmapped_roles
    from users
    left join per_user
        on users.user_id = per_user.user_id
),

final as (
    select
        parsed.user_id,
        parsed.user_name as resource_name,
        parsed.first_name,
        parsed.last_name,
        parsed.email,
        parsed.role_name,
        roles.role_code,
        parsed.office,
        parsed.unmapped_roles,
        offices.country_code,
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
    left join roles
        on parsed.role_name = roles.role_name
    left join offices
        on parsed.office = offices.location
    left join legal_entities
        on offices.country_code = legal_entities.country_code
)

select * from final
