-- Closed periods whose figures moved or disagree, as at each report period
-- (reconciliation.reporting_drift of closed periods up to it): the latest period first, then
-- legal entity and reason. Timestamps in UTC (the workbook has no time zones).
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

reporting_drift as (
    select * from {{ ref('reporting_drift') }}
    where is_period_closed
),

final as (
    select
        cast(report_periods.report_period as varchar) as report_period,
        cast(row_number() over (
            partition by report_periods.report_period
            order by
                reporting_drift.period desc,
                reporting_drift.legal_entity_id,
                reporting_drift.reason,
                reporting_drift.source_record_id
        ) as integer) as row_order,
        cast(reporting_drift.source_system as varchar) as source_system,
        cast(reporting_drift.source_record_id as varchar) as source_record_id,
        cast(reporting_drift.period as varchar) as period,
        cast(reporting_drift.legal_entity_id as integer) as legal_entity_id,
        cast(reporting_drift.legal_entity as varchar) as legal_entity,
        cast(reporting_drift.reason as varchar) as reason,
        cast(reporting_drift.is_contract_reason as boolean) as is_contract_reason,
        cast(reporting_drift.record_count as integer) as record_count,
        cast(reporting_drift.first_changed_at at time zone 'UTC' as timestamp) as first_changed_at_utc,
        cast(reporting_drift.currency as varchar) as currency,
        cast(reporting_drift.amount as decimal(18, 2)) as amount,
        cast(reporting_drift.reporting_currency as varchar) as reporting_currency,
        cast(reporting_drift.amount_reporting as decimal(18, 2)) as amount_reporting,
        cast(reporting_drift.details as varchar) as details
    from report_periods
    inner join reporting_drift
        on reporting_drift.period <= report_periods.report_period
)

select * from final
