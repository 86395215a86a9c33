-- duplicate_customer (crm Account Id / erp customer id): within one system, two or more live
-- records with the same normalised name and country; one row per member, the original included.
-- CRM: accounts not deleted; ERP: customers neither deleted nor inactive. The name rule is the
-- contract's (macro normalize_company_name, as in the canonical crosswalk). Parent and subsidiary
-- (different names) and one name in two countries are different customers. The amount is what
-- hangs on the record: won bookings of the account (CRM) or net invoiced to the customer (ERP).
with

crosswalk as (
    select * from {{ ref('customer_crosswalk') }}
    where source_system in ('crm', 'erp')
        and not is_inactive
),

source_records as (
    select * from {{ ref('int_customers__source_records') }}
),

customers as (
    select * from {{ ref('customers') }}
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won
        and not is_deleted
),

quote_to_cash as (
    select * from {{ ref('quote_to_cash') }}
),

invoices as (
    select * from {{ ref('invoices') }}
    where invoice_type = 'invoice'
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),


grouped as (
    select
        crosswalk.*,
        {{ dbt.concat(['crosswalk.source_system', "'|'", "coalesce(crosswalk.country_code, '')", "'|'", "coalesce(crosswalk.normalized_name, '')"]) }} as duplicate_group_key,
        count(*) over (
            partition by crosswalk.source_system, crosswalk.normalized_name, crosswalk.country_code
        ) as group_size
    from crosswalk
),

duplicates as (
    select * from grouped
    where group_size > 1
        -- a name with no letter or digit (null once normalized) says nothing about identity
        and normalized_name is not null
),

group_members as (
    select
        duplicate_group_key,
        {{ dbt.listagg('source_record_id', "', '", "order by source_record_id") }} as member_ids
    from duplicates
    group by duplicate_group_key
),

crm_amounts as (
    select
        opportunities.account_id as source_record_id,
        sum(opportunities.amount) as amount,
        sum(quote_to_cash.booked_amount_functional) as amount_functional,
        sum(quote_to_cash.booked_amount_reporting) as amount_reporting
    from opportunities
    left join quote_to_cash
        on opportunities.opportunity_id = quote_to_cash.opportunity_id
    group by opportunities.account_id
),

erp_amounts as (
    select
        cast(invoices.erp_customer_id as {{ dbt.type_string() }}) as source_record_id,
        invoices.currency,
        sum(invoices.net_amount) as amount,
        sum(invoices.net_amount_functional) as amount_functional,
        sum(invoices.net_amount_reporting) as amount_reporting
    from invoices
    group by
        invoices.erp_customer_id,
        invoices.currency
),

erp_totals as (
    select
        source_record_id,
        sum(amount_functional) as amount_functional,
        sum(amount_reporting) as amount_reporting
    from erp_amounts
    group by source_record_id
),

joined as (
    select
        duplicates.*,
        source_records.currency,
        {{ utc_date('source_records.created_at') }} as created_on,
        coalesce(source_records.legal_entity_id, customers.legal_entity_id) as legal_entity_id,
        group_members.member_ids,
        case
            when duplicates.source_system = 'crm' then coalesce(crm_amounts.amount, 0)
            else coalesce(erp_amounts.amount, 0)
        end as amount,
        case
            when duplicates.source_system = 'crm' then crm_amounts.amount_functional
            else erp_totals.amount_functional
        end as amount_functional,
        case
            when duplicates.source_system = 'crm' then crm_amounts.amount_reporting
            else erp_totals.amount_reporting
        end as amount_reporting
    from duplicates
    inner join source_records
        on duplicates.source_system = source_records.source_system
        and duplicates.source_record_id = source_records.source_record_id
    left join customers
        on duplicates.customer_id = customers.customer_id
    left join group_members
        on duplicates.duplicate_group_key = group_members.duplicate_group_key
    left join crm_amounts
        on duplicates.source_system = 'crm'
        and duplicates.source_record_id = crm_amounts.source_record_id
    left join erp_amounts
        on duplicates.source_system = 'erp'
        and duplicates.source_record_id = erp_amounts.source_record_id
        and source_records.currency = erp_amounts.currency
    left join erp_totals
        on duplicates.source_system = 'erp'
        and duplicates.source_record_id = erp_totals.source_record_id
),

final as (
    select
        'duplicate_customer' as exception_type,
        joined.source_system,
        joined.source_record_id,
        joined.customer_id,
        joined.source_name,
        joined.normalized_name,
        joined.country_code,
        joined.duplicate_group_key,
        cast(joined.group_size as integer) as group_size,
        joined.member_ids,
        joined.created_on,
        {{ year_month('joined.created_on') }} as period,
        joined.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        joined.currency,
        cast(joined.amount as {{ money_type() }}) as amount,
        legal_entities.functional_currency,
        cast(coalesce(joined.amount_functional, 0) as {{ money_type() }}) as amount_functional,
        legal_entities.reporting_currency,
        cast(coalesce(joined.amount_reporting, 0) as {{ money_type() }}) as amount_reporting,
        joined.created_on as occurred_on,
        {{ dbt.concat([
            "cast(joined.group_size as " ~ dbt.type_string() ~ ")",
            "' records named '",
            "coalesce(joined.normalized_name, '')",
            "' in '",
            "coalesce(joined.country_code, '?')",
            "': '",
            "joined.member_ids",
        ]) }} as details
    from joined
    left join legal_entities
        on joined.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
