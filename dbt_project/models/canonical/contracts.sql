-- One row per live CRM contract: the deal it formalizes, the golden customer, its dates and value,
-- and the ERP sales orders that book it (by the orders' opportunity reference): the first one, and
-- what all of its live, non-cancelled orders book before tax (a firm may book a deal on several).
-- The contract value is the opportunity amount, converted at the ERP's rates of the close date's
-- period.
with

contracts as (
    select * from {{ ref('stg_salesforce__contracts') }}
    where not is_deleted
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
),

crosswalk as (
    select * from {{ ref('int_customers__matched') }}
    where source_system = 'crm'
),

customers as (
    select * from {{ ref('customers') }}
),

transactions as (
    select * from {{ ref('int_erp_transactions') }}
),

sales_order_lines as (
    select * from {{ ref('stg_netsuite__transaction_lines') }}
    where not is_deleted
        and not is_main_line
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

-- the first sales order booked for each opportunity
sales_orders as (
    select
        transactions.*,
        row_number() over (
            partition by transactions.opportunity_id
            order by transactions.created_at, transactions.transaction_id
        ) as order_rank
    from transactions
    where transactions.transaction_type = 'SalesOrd'
        and transactions.opportunity_id is not null
),

sales_order_totals as (
    select
        transaction_id,
        sum(net_amount) as net_amount
    from sales_order_lines
    group by transaction_id
),

deal_orders as (
    select
        sales_orders.opportunity_id,
        count(*) as sales_order_count,
        sum(coalesce(sales_order_totals.net_amount, 0)) as net_amount
    from sales_orders
    left join sales_order_totals
        on sales_orders.transaction_id = sales_order_totals.transaction_id
    where coalesce(sales_orders.canonical_status, '') <> 'cancelled'
    group by sales_orders.opportunity_id
),

joined as (
    select
        contracts.*,
        opportunities.opportunity_id,
        opportunities.amount as contract_value,
        opportunities.currency,
        opportunities.close_date,
        crosswalk.customer_id,
        coalesce(sales_orders.legal_entity_id, customers.legal_entity_id) as legal_entity_id,
        sales_orders.transaction_id as sales_order_id,
        sales_orders.transaction_number as sales_order_number,
        sales_orders.canonical_status as sales_order_status,
        sales_orders.currency as sales_order_currency,
        cast(coalesce(deal_orders.sales_order_count, 0) as integer) as sales_order_count,
        cast(deal_orders.net_amount as {{ money_type() }}) as sales_order_amount
    from contracts
    left join opportunities
        on contracts.contract_id = opportunities.contract_id
    left join crosswalk
        on contracts.account_id = crosswalk.source_record_id
    left join customers
        on crosswalk.customer_id = customers.customer_id
    left join sales_orders
        on opportunities.opportunity_id = sales_orders.opportunity_id
        and sales_orders.order_rank = 1
    left join deal_orders
        on opportunities.opportunity_id = deal_orders.opportunity_id
),

final as (
    select
        joined.contract_id,
        joined.contract_number,
        joined.opportunity_id,
        joined.account_id as crm_account_id,
        joined.customer_id,
        joined.legal_entity_id,
        case joined.contract_status
            when 'Draft' then 'draft'
            when 'In Approval Process' then 'in_approval'
            when 'Activated' then 'activated'
            when 'Terminated' then 'terminated'
            when 'Expired' then 'expired'
        end as contract_status,
        joined.start_date,
        joined.end_date,
        joined.activated_at,
        joined.close_date,
        joined.currency,
        joined.contract_value,
        exchange_rates.functional_currency,
        {{ convert_money('joined.contract_value', 'exchange_rates.transaction_to_functional_rate') }} as contract_value_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('joined.contract_value', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as contract_value_reporting,
        joined.sales_order_id,
        joined.sales_order_number,
        joined.sales_order_status,
        joined.sales_order_currency,
        joined.sales_order_count,
        joined.sales_order_amount,
        joined.created_at,
        joined.modified_at,
        'crm' as source_system,
        joined.contract_id as source_record_id
    from joined
    left join exchange_rates
        on joined.legal_entity_id = exchange_rates.legal_entity_id
        and joined.currency = exchange_rates.transaction_currency
        and joined.close_date between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
