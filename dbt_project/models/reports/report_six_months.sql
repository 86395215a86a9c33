-- For each report period, the six accounting periods to it (the period and the five before, by
-- start date), each over every legal entity and currency in the reporting currency.
with

periods as (
    select * from {{ ref('periods') }}
),

month_end_variance as (
    select * from {{ ref('month_end_variance') }}
),

report_periods as (
    select * from {{ ref('report_periods') }}
),

-- the report period's window: its six latest periods up to and including it
windows as (
    select
        report_periods.report_period,
        periods.fiscal_month as period,
        row_number() over (
            partition by report_periods.report_period
            order by periods.start_date desc, periods.period_id desc
        ) as months_back
    from report_periods
    inner join periods
        on periods.fiscal_month <= report_periods.report_period
),

window_months as (
    select distinct
        report_period,
        period
    from windows
    where months_back <= 6
),

by_month as (
    select
        window_months.report_period,
        month_end_variance.period,
        month_end_variance.reporting_currency,
        sum(month_end_variance.booked_reporting) as booked_reporting,
        sum(month_end_variance.delivered_reporting) as delivered_reporting,
        sum(month_end_variance.billed_reporting) as billed_reporting,
        sum(month_end_variance.collected_reporting) as collected_reporting,
        sum(month_end_variance.billing_gap_reporting) as billing_gap_reporting,
        count(*) filter (where month_end_variance.is_material) as material_gap_count
    from window_months
    inner join month_end_variance
        on window_months.period = month_end_variance.period
    group by
        window_months.report_period,
        month_end_variance.period,
        month_end_variance.reporting_currency
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_period order by period, reporting_currency
        ) as integer) as row_order,
        cast(period as varchar) as period,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(booked_reporting as decimal(18, 2)) as booked_reporting,
        cast(delivered_reporting as decimal(18, 2)) as delivered_reporting,
        cast(billed_reporting as decimal(18, 2)) as billed_reporting,
        cast(collected_reporting as decimal(18, 2)) as collected_reporting,
        cast(billing_gap_reporting as decimal(18, 2)) as billing_gap_reporting,
        cast(material_gap_count as integer) as material_gap_count
    from by_month
)

select * from final
