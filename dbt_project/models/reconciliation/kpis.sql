-- Every operational KPI in one long table for dashboards: one row per KPI and scope (period and
-- legal entity for cycle times, source system and resource for sync latency, exception type for
-- exception counts), with its value and unit. Built from kpi_cycle_times, kpi_sync_latency and
-- kpi_exception_aging.
{%- set cycle_kpis = [
    ('closed_won_to_project_days', 'days', 'won_deal_count'),
    ('approval_to_invoice_days', 'days', 'invoice_count'),
    ('time_to_invoice_days', 'days', 'null'),
    ('invoice_to_payment_days', 'days', 'paid_invoice_count'),
    ('dso_days', 'days', 'null'),
    ('realization_pct', 'percent', 'null'),
] %}
with

cycle_times as (
    select * from {{ ref('kpi_cycle_times') }}
),

sync_latency as (
    select * from {{ ref('kpi_sync_latency') }}
),

exception_aging as (
    select * from {{ ref('kpi_exception_aging') }}
),

unioned as (
    {%- for kpi, unit, observations in cycle_kpis %}
    select
        '{{ kpi }}' as kpi,
        period,
        legal_entity_id,
        cast(null as {{ dbt.type_string() }}) as scope,
        cast({{ kpi }} as decimal(18, 2)) as value,
        '{{ unit }}' as unit,
        cast({{ observations }} as integer) as observation_count
    from cycle_times
    where {{ kpi }} is not null
    union all
    {%- endfor %}

    select
        'sync_latency_median_seconds' as kpi,
        cast(null as {{ dbt.type_string() }}) as period,
        cast(null as integer) as legal_entity_id,
        source_resource_key as scope,
        cast(median_latency_seconds as decimal(18, 2)) as value,
        'seconds' as unit,
        synced_change_count as observation_count
    from sync_latency
    where median_latency_seconds is not null

    union all

    select
        'sync_latency_max_seconds',
        null,
        null,
        source_resource_key,
        cast(max_latency_seconds as decimal(18, 2)),
        'seconds',
        synced_change_count
    from sync_latency
    where max_latency_seconds is not null

    union all

    select
        'open_exceptions',
        null,
        null,
        exception_type,
        cast(sum(exception_count) as decimal(18, 2)),
        'count',
        cast(sum(exception_count) as integer)
    from exception_aging
    where status = 'open'
    group by exception_type

    union all

    select
        'open_exceptions_avg_age_days',
        null,
        null,
        exception_type,
        cast(sum(avg_age_days * exception_count) / sum(exception_count) as decimal(18, 2)),
        'days',
        cast(sum(exception_count) as integer)
    from exception_aging
    where status = 'open'
    group by exception_type
),

final as (
    select
        cast({{ dbt.concat([
            'kpi',
            "'|'", "coalesce(period, '')",
            "'|'", "coalesce(cast(legal_entity_id as " ~ dbt.type_string() ~ "), '')",
            "'|'", "coalesce(scope, '')",
        ]) }} as {{ dbt.type_string() }}) as kpi_key,
        kpi,
        period,
        legal_entity_id,
        scope,
        value,
        unit,
        observation_count
    from unioned
)

select * from final
