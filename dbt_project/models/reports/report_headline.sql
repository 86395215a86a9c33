-- The headline tiles of each report period, in the reporting currency: the month's booked,
-- delivered, billed and collected totals over every legal entity and currency, its count of
-- material billing gaps, and what is left to fix as at the period: unbilled approved time and
-- open exceptions of the period and every earlier one.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

month_end_variance as (
    select * from {{ ref('month_end_variance') }}
),

unbilled_approved_time as (
    select * from {{ ref('unbilled_approved_time') }}
),

open_exceptions as (
    select * from {{ ref('exceptions') }}
    where status = 'open'
),

month_totals as (
    select
        period as report_period,
        any_value(reporting_currency) as reporting_currency,
        sum(booked_reporting) as booked_reporting,
        sum(delivered_reporting) as delivered_reporting,
        sum(billed_reporting) as billed_reporting,
        sum(collected_reporting) as collected_reporting,
        count(*) filter (where is_material) as material_gap_count
    from month_end_variance
    group by period
),

-- one tile per stage, for a period the marts have figures of
stages as (
    select
        month_totals.report_period,
        stage.stage_order,
        stage.measure,
        month_totals.reporting_currency as currency,
        case stage.stage_order
            when 1 then month_totals.booked_reporting
            when 2 then month_totals.delivered_reporting
            when 3 then month_totals.billed_reporting
            when 4 then month_totals.collected_reporting
        end as amount,
        cast(null as bigint) as record_count
    from month_totals
    cross join (
        values
            (1, 'Booked (won deals)'),
            (2, 'Delivered (to invoice)'),
            (3, 'Billed (net invoices)'),
            (4, 'Collected (payments)')
    ) as stage (stage_order, measure)
),

material_gaps as (
    select
        report_periods.report_period,
        5 as stage_order,
        'Material billing gaps' as measure,
        cast(null as varchar) as currency,
        cast(null as decimal(18, 2)) as amount,
        coalesce(month_totals.material_gap_count, 0) as record_count
    from report_periods
    left join month_totals
        on report_periods.report_period = month_totals.report_period
),

-- what is left to fix as at the period: records of the period and every earlier one
{%- set to_fix = [
    (6, 'Unbilled approved time (entries)', 'unbilled_approved_time'),
    (7, 'Open exceptions to fix', 'open_exceptions'),
] %}
{% for stage_order, measure, records in to_fix %}
{{ records }}_as_at as (
    select
        report_periods.report_period,
        {{ stage_order }} as stage_order,
        '{{ measure }}' as measure,
        report_periods.reporting_currency as currency,
        coalesce(sum({{ records }}.amount_reporting), 0) as amount,
        count({{ records }}.period) as record_count
    from report_periods
    left join {{ records }}
        on {{ records }}.period <= report_periods.report_period
    group by
        report_periods.report_period,
        report_periods.reporting_currency
),
{% endfor %}

tiles as (
    select * from stages
    union all
    select * from material_gaps
    {%- for _, _, records in to_fix %}
    union all
    select * from {{ records }}_as_at
    {%- endfor %}
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(stage_order as integer) as row_order,
        cast(measure as varchar) as measure,
        cast(currency as varchar) as currency,
        cast(amount as decimal(18, 2)) as amount,
        cast(record_count as integer) as record_count
    from tiles
)

select * from final
