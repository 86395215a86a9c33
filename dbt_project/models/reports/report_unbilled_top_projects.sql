-- The ten projects holding the most unbilled approved time (in the reporting currency) as at
-- each report period: its own and every earlier period's entries, per Harvest project, legal
-- entity and currency, with the oldest entry's age and one time entry id to open.
with

report_periods as (
    select * from {{ ref('report_periods') }}
),

unbilled_approved_time as (
    select * from {{ ref('unbilled_approved_time') }}
),

by_project as (
    select
        report_periods.report_period,
        unbilled_approved_time.project_id,
        unbilled_approved_time.legal_entity_id,
        unbilled_approved_time.legal_entity,
        unbilled_approved_time.currency,
        unbilled_approved_time.reporting_currency,
        count(*) as entry_count,
        sum(unbilled_approved_time.hours) as hours,
        sum(unbilled_approved_time.amount) as amount,
        sum(unbilled_approved_time.amount_reporting) as amount_reporting,
        max(unbilled_approved_time.age_days) as oldest_age_days,
        min(unbilled_approved_time.source_record_id) as example_source_record_id
    from report_periods
    inner join unbilled_approved_time
        on unbilled_approved_time.period <= report_periods.report_period
    group by
        report_periods.report_period,
        unbilled_approved_time.project_id,
        unbilled_approved_time.legal_entity_id,
        unbilled_approved_time.legal_entity,
        unbilled_approved_time.currency,
        unbilled_approved_time.reporting_currency
),

ranked as (
    select
        by_project.*,
        row_number() over (
            partition by report_period
            order by amount_reporting desc, project_id, currency
        ) as project_rank
    from by_project
),

final as (
    select
        cast(report_period as varchar) as report_period,
        cast(project_rank as integer) as row_order,
        cast('psa' as varchar) as source_system,
        cast(project_id as bigint) as project_id,
        cast(legal_entity_id as integer) as legal_entity_id,
        cast(legal_entity as varchar) as legal_entity,
        cast(entry_count as integer) as entry_count,
        cast(hours as decimal(12, 2)) as hours,
        cast(currency as varchar) as currency,
        cast(amount as decimal(18, 2)) as amount,
        cast(reporting_currency as varchar) as reporting_currency,
        cast(amount_reporting as decimal(18, 2)) as amount_reporting,
        cast(oldest_age_days as integer) as oldest_age_days,
        cast(example_source_record_id as varchar) as example_source_record_id
    from ranked
    where project_rank <= 10
)

select * from final
