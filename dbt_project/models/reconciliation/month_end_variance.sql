-- What finance reads at month-end: per accounting period, legal entity and transaction currency,
-- the quote-to-cash flow and the gaps between its stages.
--   booked: won deals by close date (CRM Amount);
--   delivered: what should be invoiced for the month (canonical billing_events: approved billable
--     T&M time at Harvest's rates plus fixed-fee instalments);
--   billed: net amount of invoices posted in the period (ERP); credited: credit memos;
--     billed_gross: invoices with tax;
--   collected: customer payments dated in the period (ERP, tax included);
--   unbilled: approved billable T&M time of the month not billed yet (work in progress).
-- Gaps: delivered - booked, delivered - billed (billing gap: + under-billed), billed_gross -
-- collected (collection gap). Month-over-month change against the previous period of the same
-- entity and currency. A billing gap is material when it exceeds max(`materiality_pct` % of
-- |delivered|, `materiality_abs`) in the reporting currency (defaults 5 % and 1,000.00).
-- Amounts in the transaction currency, the entity's functional currency and the reporting currency.
with

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

quote_to_cash as (
    select * from {{ ref('quote_to_cash') }}
),

billing_events as (
    select * from {{ ref('billing_events') }}
),

invoices as (
    select * from {{ ref('invoices') }}
),

payments as (
    select * from {{ ref('payments') }}
),

time_entries as (
    select * from {{ ref('time_entries') }}
    where is_approved
        and is_billable
        and is_billable_project
        and billing_method = 'time_and_materials'
        and not is_billed
),

-- (period, entity, currency, measure amounts) from every stage
measures as (
    select
        periods.period_id,
        quote_to_cash.legal_entity_id,
        quote_to_cash.currency,
        quote_to_cash.booked_amount as booked,
        quote_to_cash.booked_amount_functional as booked_functional,
        quote_to_cash.booked_amount_reporting as booked_reporting,
        0 as delivered, 0 as delivered_functional, 0 as delivered_reporting,
        0 as billed, 0 as billed_functional, 0 as billed_reporting,
        0 as credited, 0 as credited_reporting,
        0 as billed_gross, 0 as billed_gross_reporting,
        0 as collected, 0 as collected_functional, 0 as collected_reporting,
        0 as unbilled, 0 as unbilled_functional, 0 as unbilled_reporting
    from quote_to_cash
    inner join periods
        on quote_to_cash.closed_won_date between periods.start_date and periods.end_date

    union all

    select
        billing_events.period_id,
        billing_events.legal_entity_id,
        billing_events.currency,
        0, 0, 0,
        billing_events.amount,
        billing_events.amount_functional,
        billing_events.amount_reporting,
        0, 0, 0,
        0, 0,
        0, 0,
        0, 0, 0,
        0, 0, 0
    from billing_events

    union all

    select
        invoices.period_id,
        invoices.legal_entity_id,
        invoices.currency,
        0, 0, 0,
        0, 0, 0,
        case when invoices.invoice_type = 'invoice' then invoices.net_amount else 0 end,
        case when invoices.invoice_type = 'invoice' then invoices.net_amount_functional else 0 end,
        case when invoices.invoice_type = 'invoice' then invoices.net_amount_reporting else 0 end,
        case when invoices.invoice_type = 'credit_memo' then invoices.net_amount else 0 end,
        case when invoices.invoice_type = 'credit_memo' then invoices.net_amount_reporting else 0 end,
        case when invoices.invoice_type = 'invoice' then invoices.total_amount else 0 end,
        case when invoices.invoice_type = 'invoice' then invoices.total_amount_reporting else 0 end,
        0, 0, 0,
        0, 0, 0
    from invoices

    union all

    select
        payments.period_id,
        payments.legal_entity_id,
        payments.currency,
        0, 0, 0,
        0, 0, 0,
        0, 0, 0,
        0, 0,
        0, 0,
        payments.amount,
        payments.amount_functional,
        payments.amount_reporting,
        0, 0, 0
    from payments

    union all

    select
        time_entries.period_id,
        time_entries.legal_entity_id,
        time_entries.currency,
        0, 0, 0,
        0, 0, 0,
        0, 0, 0,
        0, 0,
        0, 0,
        0, 0, 0,
        time_entries.billable_amount,
        time_entries.billable_amount_functional,
        time_entries.billable_amount_reporting
    from time_entries
),

totals as (
    select
        period_id,
        legal_entity_id,
        currency,
        sum(booked) as booked,
        sum(booked_functional) as booked_functional,
        sum(booked_reporting) as booked_reporting,
        sum(delivered) as delivered,
        sum(delivered_functional) as delivered_functional,
        sum(delivered_reporting) as delivered_reporting,
        sum(billed) as billed,
        sum(billed_functional) as billed_functional,
        sum(billed_reporting) as billed_reporting,
        sum(credited) as credited,
        sum(credited_reporting) as credited_reporting,
        sum(billed_gross) as billed_gross,
        sum(billed_gross_reporting) as billed_gross_reporting,
        sum(collected) as collected,
        sum(collected_functional) as collected_functional,
        sum(collected_reporting) as collected_reporting,
        sum(unbilled) as unbilled,
        sum(unbilled_functional) as unbilled_functional,
        sum(unbilled_reporting) as unbilled_reporting
    from measures
    where period_id is not null
        and legal_entity_id is not null
        and currency is not null
    group by
        period_id,
        legal_entity_id,
        currency
),

-- every period for every entity and currency that ever had a figure, so month-over-month
-- compares with the previous month even when it was empty
entity_currencies as (
    select distinct
        legal_entity_id,
        currency
    from totals
),

spine as (
    select
        periods.period_id,
        periods.fiscal_month as period,
        periods.start_date,
        periods.is_closed,
        entity_currencies.legal_entity_id,
        entity_currencies.currency
    from periods
    cross join entity_currencies
),

filled as (
    select
        spine.*,
        {% for measure in ['booked', 'booked_functional', 'booked_reporting', 'delivered',
                           'delivered_functional', 'delivered_reporting', 'billed',
                           'billed_functional', 'billed_reporting', 'credited',
                           'credited_reporting', 'billed_gross', 'billed_gross_reporting',
                           'collected', 'collected_functional', 'collected_reporting',
                           'unbilled', 'unbilled_functional', 'unbilled_reporting'] -%}
        cast(coalesce(totals.{{ measure }}, 0) as {{ money_type() }}) as {{ measure }}{{ ',' if not loop.last }}
        {% endfor %}
    from spine
    left join totals
        on spine.period_id = totals.period_id
        and spine.legal_entity_id = totals.legal_entity_id
        and spine.currency = totals.currency
),

compared as (
    select
        filled.*,
        filled.delivered - filled.booked as delivered_minus_booked,
        filled.delivered_reporting - filled.booked_reporting as delivered_minus_booked_reporting,
        filled.delivered - filled.billed as billing_gap,
        filled.delivered_reporting - filled.billed_reporting as billing_gap_reporting,
        filled.billed_gross - filled.collected as collection_gap,
        filled.billed_gross_reporting - filled.collected_reporting as collection_gap_reporting,
        filled.booked - lag(filled.booked) over (partition by filled.legal_entity_id, filled.currency order by filled.start_date) as booked_mom_change,
        filled.delivered - lag(filled.delivered) over (partition by filled.legal_entity_id, filled.currency order by filled.start_date) as delivered_mom_change,
        filled.billed - lag(filled.billed) over (partition by filled.legal_entity_id, filled.currency order by filled.start_date) as billed_mom_change,
        filled.collected - lag(filled.collected) over (partition by filled.legal_entity_id, filled.currency order by filled.start_date) as collected_mom_change,
        -- widened before multiplying: a large firm's month overflows decimal(18) otherwise
        cast(greatest(
            cast({{ '%.6f' | format((var('materiality_pct') | float) / 100) }} as decimal(38, 6))
                * cast(abs(filled.delivered_reporting) as decimal(38, 6)),
            {{ '%.2f' | format(var('materiality_abs') | float) }}
        ) as decimal(18, 2)) as materiality_threshold_reporting
    from filled
),

final as (
    select
        cast({{ dbt.concat(['compared.period', "'|'", "cast(compared.legal_entity_id as " ~ dbt.type_string() ~ ")", "'|'", 'compared.currency']) }} as {{ dbt.type_string() }}) as period_entity_currency_key,
        cast(compared.period as {{ dbt.type_string() }}) as period,
        cast(compared.period_id as integer) as period_id,
        cast(compared.is_closed as boolean) as is_period_closed,
        cast(compared.legal_entity_id as integer) as legal_entity_id,
        cast(legal_entities.legal_entity_name as {{ dbt.type_string() }}) as legal_entity,
        cast(compared.currency as {{ dbt.type_string() }}) as currency,
        cast(legal_entities.functional_currency as {{ dbt.type_string() }}) as functional_currency,
        cast(legal_entities.reporting_currency as {{ dbt.type_string() }}) as reporting_currency,
        {% for measure in ['booked', 'booked_functional', 'booked_reporting', 'delivered',
                           'delivered_functional', 'delivered_reporting', 'billed',
                           'billed_functional', 'billed_reporting', 'credited',
                           'credited_reporting', 'billed_gross', 'billed_gross_reporting',
                           'collected', 'collected_functional', 'collected_reporting',
                           'unbilled', 'unbilled_functional', 'unbilled_reporting',
                           'delivered_minus_booked', 'delivered_minus_booked_reporting',
                           'billing_gap', 'billing_gap_reporting', 'collection_gap',
                           'collection_gap_reporting', 'booked_mom_change',
                           'delivered_mom_change', 'billed_mom_change', 'collected_mom_change',
                           'materiality_threshold_reporting'] -%}
        cast(compared.{{ measure }} as {{ money_type() }}) as {{ measure }},
        {% endfor -%}
        cast(abs(compared.billing_gap_reporting) > compared.materiality_threshold_reporting as boolean) as is_material
    from compared
    inner join legal_entities
        on compared.legal_entity_id = legal_entities.legal_entity_id
)

select * from final
