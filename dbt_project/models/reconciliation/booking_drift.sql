-- booking_drift (crm, Opportunity Id): a won, live deal without an ERP sales order, or whose
-- Amount differs from a sales order's total (foreigntotal) by more than
-- max(`booking_tolerance_pct` % of |Amount|, `booking_tolerance_abs`) (defaults 0.5 % and 1.00).
-- The amount is Amount - sales order total (the whole Amount when there is no sales order), in
-- the deal's currency.
with

deals as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won
        and not is_deleted
),

quote_to_cash as (
    select * from {{ ref('quote_to_cash') }}
),

sales_orders as (
    select * from {{ ref('int_erp_transactions') }}
    where transaction_type = 'SalesOrd'
        and opportunity_id is not null
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

-- each (deal, sales order) pair, as the contract compares them
compared as (
    select
        deals.opportunity_id,
        deals.amount as booked_amount,
        sales_orders.transaction_id as sales_order_id,
        sales_orders.transaction_number as sales_order_number,
        sales_orders.legal_entity_id as sales_order_legal_entity_id,
        sales_orders.total_amount as sales_order_amount,
        case
            when sales_orders.transaction_id is null then true
            else {{ beyond_tolerance('sales_orders.total_amount', 'deals.amount', var('booking_tolerance_pct'), var('booking_tolerance_abs')) }}
        end as is_drifting
    from deals
    left join sales_orders
        on deals.opportunity_id = sales_orders.opportunity_id
),

-- the drifting pair of each deal (the first sales order when several drift)
drifting as (
    select
        compared.*,
        row_number() over (
            partition by compared.opportunity_id
            order by compared.sales_order_id
        ) as drift_rank
    from compared
    where compared.is_drifting
),

sales_order_counts as (
    select
        opportunity_id,
        count(sales_order_id) as sales_order_count
    from compared
    group by opportunity_id
),

joined as (
    select
        deals.opportunity_id,
        deals.opportunity_name,
        deals.account_id,
        deals.close_date,
        deals.currency,
        deals.amount as booked_amount,
        drifting.sales_order_id,
        drifting.sales_order_number,
        drifting.sales_order_amount,
        sales_order_counts.sales_order_count,
        quote_to_cash.customer_id,
        coalesce(drifting.sales_order_legal_entity_id, quote_to_cash.legal_entity_id) as legal_entity_id,
        cast(deals.amount - coalesce(drifting.sales_order_amount, 0) as {{ money_type() }}) as drift_amount,
        case
            when drifting.sales_order_id is null then 'no_sales_order'
            else 'amount_differs'
        end as drift_reason
    from drifting
    inner join deals
        on drifting.opportunity_id = deals.opportunity_id
    left join sales_order_counts
        on drifting.opportunity_id = sales_order_counts.opportunity_id
    left join quote_to_cash
        on drifting.opportunity_id = quote_to_cash.opportunity_id
    where drifting.drift_rank = 1
),

final as (
    select
        'booking_drift' as exception_type,
        'crm' as source_system,
        joined.opportunity_id as source_record_id,
        joined.opportunity_id,
        joined.opportunity_name,
        joined.account_id,
        joined.customer_id,
        joined.close_date,
        {{ year_month('joined.close_date') }} as period,
        joined.legal_entity_id,
        legal_entities.legal_entity_name as legal_entity,
        joined.drift_reason,
        joined.booked_amount,
        joined.sales_order_id,
        joined.sales_order_number,
        joined.sales_order_amount,
        cast(joined.sales_order_count as integer) as sales_order_count,
        joined.currency,
        joined.drift_amount as amount,
        exchange_rates.functional_currency,
        {{ convert_money('joined.drift_amount', 'exchange_rates.transaction_to_functional_rate') }} as amount_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('joined.drift_amount', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as amount_reporting,
        joined.close_date as occurred_on,
        case
            when joined.sales_order_id is null then 'won deal has no sales order'
            else {{ dbt.concat([
                "'Amount '",
                "cast(joined.booked_amount as " ~ dbt.type_string() ~ ")",
                "' vs '",
                "joined.sales_order_number",
                "' total '",
                "cast(joined.sales_order_amount as " ~ dbt.type_string() ~ ")",
            ]) }}
        end as details
    from joined
    left join legal_entities
        on joined.legal_entity_id = legal_entities.legal_entity_id
    left join exchange_rates
        on joined.legal_entity_id = exchange_rates.legal_entity_id
        and joined.currency = exchange_rates.transaction_currency
        and joined.close_date between exchange_rates.start_date and exchange_rates.end_date
)

select * from final
