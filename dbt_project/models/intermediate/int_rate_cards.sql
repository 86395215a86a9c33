-- Rate cards: the contracted hourly rate per project and role, from the deal's opportunity line
-- items. A line's ProductCode is the role code, which is the NetSuite item's itemid; the role's
-- name is the Harvest task name (profile: vocabulary.roles, model `lookup_roles`). When a deal prices one role on several lines,
-- hours and amounts add up and the highest unit price is the rate.
with

line_items as (
    select * from {{ ref('stg_salesforce__opportunity_line_items') }}
    where not is_deleted
),

project_opportunities as (
    select * from {{ ref('int_projects__opportunities') }}
    where opportunity_id is not null
),

roles as (
    select * from {{ ref('lookup_roles') }}
),

tasks as (
    select * from {{ ref('stg_harvest__tasks') }}
    where not is_deleted
),

items as (
    select * from {{ ref('stg_netsuite__items') }}
    where not is_deleted
),

lines_by_role as (
    select
        opportunity_id,
        role_code,
        currency,
        max(unit_price) as contracted_rate,
        sum(quantity_hours) as contracted_hours,
        sum(total_price) as contracted_amount,
        count(*) as line_item_count,
        min(opportunity_line_item_id) as first_line_item_id
    from line_items
    group by
        opportunity_id,
        role_code,
        currency
),

final as (
    select
        {{ dbt.concat(["cast(project_opportunities.project_id as " ~ dbt.type_string() ~ ")", "'|'", 'lines_by_role.role_code']) }} as rate_card_id,
        project_opportunities.project_id,
        lines_by_role.opportunity_id,
        lines_by_role.role_code,
        roles.role_name,
        tasks.task_id as psa_task_id,
        items.item_id as erp_item_id,
        roles.erp_item_code,
        lines_by_role.currency,
        lines_by_role.contracted_rate,
        lines_by_role.contracted_hours,
        lines_by_role.contracted_amount,
        lines_by_role.line_item_count,
        'crm' as source_system,
        lines_by_role.first_line_item_id as source_record_id
    from project_opportunities
    inner join lines_by_role
        on project_opportunities.opportunity_id = lines_by_role.opportunity_id
    left join roles
        on lines_by_role.role_code = roles.role_code
    left join tasks
        on roles.role_name = tasks.task_name
    left join items
        on roles.erp_item_code = items.item_code
)

select * from final
