-- How much of each system reaches the others: one row per cross-system link the rules rely on,
-- with the records that should be linked (population), those that are, the share, and a sample
-- of unlinked source ids to look at. A link below its minimum (var link_coverage_min) is a
-- warning: the profile names the wrong field or pattern, or the firm stopped filling it in, and
-- the rules that follow the link see less than the books hold. Each row names the tenant-profile
-- key that sets the link.
{%- set minimum = var('link_coverage_min') %}
with

projects as (
    select * from {{ ref('projects') }}
),

invoice_lines as (
    select * from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
),

billed_time_invoices as (
    select * from {{ ref('int_reconciliation__billed_time_invoices') }}
),

customers as (
    select * from {{ ref('customers') }}
),

resources as (
    select * from {{ ref('resources') }}
),

-- (link, source system, record id, is linked) for every record that should be linked
members as (
    -- a billable project delivers a won deal
    select
        'project_deal' as link,
        'psa' as source_system,
        projects.source_record_id,
        (projects.deal_opportunity_id is not null) as is_linked
    from projects
    where projects.is_billable

    union all

    -- an invoice line of time or fees names the Harvest project it bills
    select
        'invoice_line_project',
        'erp',
        invoice_lines.source_record_id,
        (projects.project_id is not null)
    from invoice_lines
    left join projects
        on invoice_lines.psa_project_id = cast(projects.project_id as {{ dbt.type_string() }})

    union all

    -- time Harvest marks as invoiced names an ERP invoice
    select
        'billed_time_invoice',
        'psa',
        billed_time_invoices.source_record_id,
        billed_time_invoices.is_paired
    from billed_time_invoices
    where billed_time_invoices.invoice_number is not null

    union all

    -- an ERP customer is a CRM account
    select
        'erp_customer_crm_account',
        'erp',
        cast(customers.erp_customer_id as {{ dbt.type_string() }}),
        (customers.crm_account_id is not null)
    from customers
    where customers.erp_customer_id is not null
        and not customers.is_internal

    union all

    {% if var('q2c_consultant_entity') == 'project_customer' -%}
    -- time counts for the entity of the customer served: a billable project's customer has one
    select
        'consultant_entity',
        'psa',
        projects.source_record_id,
        (projects.legal_entity_id is not null)
    from projects
    where projects.is_billable
    {%- else -%}
    -- an active consultant works for a legal entity
    select
        'consultant_entity',
        'psa',
        resources.source_record_id,
        (resources.legal_entity_id is not null)
    from resources
    where resources.is_active
    {%- endif %}
),

numbered as (
    select
        members.*,
        row_number() over (
            partition by members.link, members.is_linked
            order by members.source_record_id
        ) as position
    from members
),

counted as (
    select
        link,
        count(*) as population,
        count(case when is_linked then 1 end) as linked_count,
        -- up to ten unlinked records, to look at in the source system
        string_agg(
            case when not is_linked and position <= 10 then source_record_id end,
            ', ' order by source_record_id
        ) as unlinked_sample
    from numbered
    group by link
),

links as (
    select * from (values
        ('project_deal', 'psa', 'links.project_deal', 'billable Harvest projects whose code (or name) is the Id of a won Salesforce deal'),
        ('invoice_line_project', 'erp', 'erp_fields.line_project', 'NetSuite invoice lines whose project field names a Harvest project'),
        ('billed_time_invoice', 'psa', 'links.billed_time_invoice', 'Harvest time marked invoiced whose invoice number is a NetSuite invoice'),
        ('erp_customer_crm_account', 'erp', 'customer master (externalid, sales-order deals, name and country)', 'NetSuite customers matched to a Salesforce account'),
        {% if var('q2c_consultant_entity') == 'project_customer' -%}
        ('consultant_entity', 'psa', 'links.consultant_entity', 'billable Harvest projects whose customer has a legal entity (the time counts for it)')
        {%- else -%}
        ('consultant_entity', 'psa', 'vocabulary.offices', 'active Harvest users whose roles name one of the offices')
        {%- endif %}
    ) as links (link, source_system, profile_key, description)
),

final as (
    select
        links.link,
        links.source_system,
        links.description,
        links.profile_key,
        cast(coalesce(counted.population, 0) as integer) as population,
        cast(coalesce(counted.linked_count, 0) as integer) as linked_count,
        cast(
            case when coalesce(counted.population, 0) > 0
                then round(counted.linked_count / counted.population, 4)
            end as decimal(5, 4)
        ) as coverage,
        cast({{ minimum }} as decimal(5, 4)) as min_coverage,
        coalesce(
            counted.population > 0
            and counted.linked_count < {{ minimum }} * counted.population,
            false
        ) as is_below_minimum,
        counted.unlinked_sample
    from links
    left join counted
        on links.link = counted.link
)

select * from final
