-- Unbilled approved time as at each report period by aging bucket alone: report_unbilled_by_age's
-- rows of the bucket added up over every transaction currency, in the reporting currency (the
-- chart under that table), in the table's bucket order.
with

unbilled_by_age as (
    select * from {{ ref('report_unbilled_by_age') }}
),

by_bucket as (
    select
        report_period,
        aging_bucket,
        reporting_currency,
        sum(amount_reporting) as amount_reporting,
        min(row_order) as first_row_order
    from unbilled_by_age
    group by
        report_period,
        aging_bucket,
        reporting_currency
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_period order by first_row_order
        ) as integer) as row_order,
        cast(aging_bucket as varchar) as aging_bucket,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(amount_reporting as decimal(18, 2)) as amount_reporting
    from by_bucket
)

select * from final
