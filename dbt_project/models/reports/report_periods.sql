-- The periods a month-end report can be written for: every accounting month of the ERP, its
-- name, whether it is closed, and the group's reporting currency the report's totals are in.
with

periods as (
    select * from {{ ref('periods') }}
),

legal_entities as (
    select * from {{ ref('legal_entities') }}
),

reporting as (
    select any_value(reporting_currency) as reporting_currency
    from legal_entities
),

final as (
    select
        cast(periods.fiscal_month as varchar) as report_period,
        cast(row_number() over (order by periods.start_date, periods.period_id) as integer) as row_order,
        cast(periods.period_id as integer) as period_id,
        cast(periods.period_name as varchar) as period_name,
        cast(periods.is_closed as boolean) as is_period_closed,
        cast(reporting.reporting_currency as varchar) as reporting_currency
    from periods
    cross join reporting
)

select * from final
