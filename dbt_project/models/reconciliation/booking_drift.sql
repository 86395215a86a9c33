-- booking_drift (crm, Opportunity Id): a won, live deal without an ERP sales order, or whose
-- Amount differs from what its sales orders book: the net amount (the lines, before tax) of every
-- live sales order of the deal that is not cancelled, open and closed alike, summed (a deal may be
-- booked on several orders, and an order's total includes tax), by more than
-- max(`booking_tolerance_pct` % of |Amount|, `booking_tolerance_abs`) (defaults 0.5 % and 1.00).
-- Orders are compared in the deal's currency; an order in another currency is drift of its own
-- (currency_differs). The amount is Amount - the orders' net amount (the whole Amount when there
-- is no sales order), in the deal's currency.
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
        and coalesce(canonical_status, '') <> 'cancelled'
),

order_lines as (
    select * from {{ ref('stg_netsuite__transaction_lines') }}
    where not is_deleted
        and not is_main_line
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

order_net_amounts as (
    select
        transaction_id,
        sum(net_amount) as net_amount
    from order_lines
    group by transaction_id
),

-- what the deal's sales orders book, together
booked as (
    select
        sales_orders.opportunity_id,
        count(*) as sales_order_count,
        min(sales_orders.transaction_id) as sales_order_id,
        string_agg(sales_orders.transaction_number, ', ' order by sales_orders.transaction_id) as sales_order_numbers,
        min(sales_orders.legal_entity_id) as sales_order_legal_entity_id,
        sum(coalesce(order_net_amounts.net_amount, 0)) as sales_order_amount,
        string_agg(
            case when sales_orders.currency <> deals.currency then sales_orders.transaction_number end,
            ', ' order by sales_orders.transaction_id
        ) as other_currency_orders
    from sales_orders
    inner join deals
        on sales_orders.opportunity_id = deals.opportunity_id
    left join order_net_amounts
        on sales_orders.transaction_id = order_net_amounts.transaction_id
    group by sales_orders.opportunity_id
),

compared as (
    select
        deals.opportunity_id,
        deals.opportunity_name,
        deals.account_id,
        deals.close_date,
        deals.currency,
        deals.amount as booked_amount,
        booked.sales_order_id,
        booked.sales_order_numbers as sales_order_number,
        booked.sales_order_amount,
        coalesce(booked.sales_order_count, 0) as sales_order_count,
        booked.sales_order_legal_entity_id,
        booked.other_currency_orders,
        case
            when booked.opportunity_id is null then 'no_sales_order'
            when booked.other_currency_orders is not null then 'currency_differs'
            when {{ beyond_tolerance('booked.sales_order_amount', 'deals.amount', var('booking_tolerance_pct'), var('booking_tolerance_abs')) }}
                then 'amount_differs'
        end as drift_reason
    from deals
    left join booked
        on deals.opportunity_id = booked.opportunity_id
),

joined as (
    select
        compared.*,
        quote_to_cash.customer_id,
        coalesce(compared.sales_order_legal_entity_id, quote_to_cash.legal_entity_id) as legal_entity_id,
        cast(compared.booked_amount - coalesce(compared.sales_order_amount, 0) as {{ money_type() }}) as drift_amount
    from compared
    left join quote_to_cash
        on compared.opportunity_id = quote_to_cash.opportunity_id
    where compared.drift_reason is not null
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
            when joined.drift_reason = 'currency_differs' then {{ dbt.concat([
                "'sales order '",
                "joined.other_currency_orders",
                "' not in the deal currency '",
                "joined.currency",
            ]) }}
            else {{ dbt.concat([
                "'Amount '",
                "cast(joined.booked_amount as " ~ dbt.type_string() ~ ")",
                "' vs '",
                "joined.sales_order_number",
                "' net '",
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
