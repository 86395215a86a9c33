-- What should be invoiced, one row per event:
--   `time`: approved billable time on a billable time-and-materials project, per project, service
--     month and role, at the rates Harvest holds, next to the contracted rate of the rate card;
--   `fixed_fee_instalment`: a fixed-fee project's fee in equal monthly instalments over the months
--     of its term (the last takes the rounding remainder), for the months the ERP has a period for.
-- Amounts in the transaction currency, the legal entity's functional currency and the reporting
-- currency at the ERP's rates for the service month.
with

time_entries as (
    select * from {{ ref('time_entries') }}
),

projects as (
    select * from {{ ref('projects') }}
),

periods as (
    select * from {{ ref('periods') }}
),

rate_cards as (
    select * from {{ ref('int_rate_cards') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates') }}
),

time_events as (
    select
        time_entries.project_id,
        time_entries.service_month,
        time_entries.role_code,
        time_entries.role_name,
        time_entries.currency,
        count(*) as time_entry_count,
        sum(time_entries.hours) as hours,
        sum(case when time_entries.is_billed then time_entries.hours else 0 end) as billed_hours,
        sum(time_entries.billable_amount) as amount,
        sum(case when time_entries.is_billed then time_entries.billable_amount else 0 end) as billed_amount
    from time_entries
    where time_entries.is_approved
        and time_entries.is_billable
        and time_entries.is_billable_project
        and time_entries.billing_method = 'time_and_materials'
    group by
        time_entries.project_id,
        time_entries.service_month,
        time_entries.role_code,
        time_entries.role_name,
        time_entries.currency
),

fixed_fee_terms as (
    select
        projects.*,
        cast({{ dbt.date_trunc('month', 'projects.starts_on') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'projects.ends_on') }} as date) as last_month,
        {{ dbt.datediff(dbt.date_trunc('month', 'projects.starts_on'), dbt.date_trunc('month', 'projects.ends_on'), 'month') }} + 1 as instalment_count
    from projects
    where projects.billing_method = 'fixed_fee'
        and projects.is_billable
        and projects.fee is not null
        and projects.starts_on is not null
        and projects.ends_on is not null
),

fixed_fee_events as (
    select
        fixed_fee_terms.project_id,
        periods.start_date as service_month,
        fixed_fee_terms.currency,
        fixed_fee_terms.fee,
        fixed_fee_terms.instalment_count,
        {{ dbt.datediff('fixed_fee_terms.first_month', 'periods.start_date', 'month') }} + 1 as instalment_number,
        cast(floor(fixed_fee_terms.fee * 100 / fixed_fee_terms.instalment_count) / 100 as {{ money_type() }}) as instalment_share
    from fixed_fee_terms
    inner join periods
        on periods.start_date between fixed_fee_terms.first_month and fixed_fee_terms.last_month
),

unioned as (
    select
        {{ dbt.concat([
            "'time|'",
            "cast(time_events.project_id as " ~ dbt.type_string() ~ ")",
            "'|'",
            "cast(time_events.service_month as " ~ dbt.type_string() ~ ")",
            "'|'",
            "coalesce(time_events.role_code, time_events.role_name)",
        ]) }} as billing_event_id,
        'time' as event_type,
        time_events.project_id,
        time_events.service_month,
        time_events.role_code,
        time_events.role_name,
        cast(null as integer) as instalment_number,
        cast(null as integer) as instalment_count,
        cast(time_events.time_entry_count as integer) as time_entry_count,
        cast(time_events.hours as decimal(12, 2)) as hours,
        cast(time_events.billed_hours as decimal(12, 2)) as billed_hours,
        rate_cards.contracted_rate,
        time_events.currency,
        cast(time_events.amount as {{ money_type() }}) as amount,
        cast(time_events.billed_amount as {{ money_type() }}) as billed_amount
    from time_events
    left join rate_cards
        on time_events.project_id = rate_cards.project_id
        and time_events.role_code = rate_cards.role_code

    union all

    select
        {{ dbt.concat([
            "'fixed_fee|'",
            "cast(fixed_fee_events.project_id as " ~ dbt.type_string() ~ ")",
            "'|'",
            "cast(fixed_fee_events.service_month as " ~ dbt.type_string() ~ ")",
        ]) }} as billing_event_id,
        'fixed_fee_instalment' as event_type,
        fixed_fee_events.project_id,
        fixed_fee_events.service_month,
        cast(null as {{ dbt.type_string() }}) as role_code,
        cast(null as {{ dbt.type_string() }}) as role_name,
        cast(fixed_fee_events.instalment_number as integer) as instalment_number,
        cast(fixed_fee_events.instalment_count as integer) as instalment_count,
        cast(null as integer) as time_entry_count,
        cast(null as decimal(12, 2)) as hours,
        cast(null as decimal(12, 2)) as billed_hours,
        cast(null as {{ money_type() }}) as contracted_rate,
        fixed_fee_events.currency,
        cast(
            case
                when fixed_fee_events.instalment_number = fixed_fee_events.instalment_count
                    then fixed_fee_events.fee - fixed_fee_events.instalment_share * (fixed_fee_events.instalment_count - 1)
                else fixed_fee_events.instalment_share
            end
            as {{ money_type() }}
        ) as amount,
        cast(null as {{ money_type() }}) as billed_amount
    from fixed_fee_events
),

final as (
    select
        unioned.billing_event_id,
        unioned.event_type,
        unioned.project_id,
        projects.customer_id,
        projects.legal_entity_id,
        projects.deal_opportunity_id as opportunity_id,
        unioned.service_month,
        exchange_rates.period_id,
        unioned.role_code,
        unioned.role_name,
        unioned.instalment_number,
        unioned.instalment_count,
        unioned.time_entry_count,
        unioned.hours,
        unioned.billed_hours,
        unioned.contracted_rate,
        unioned.currency,
        unioned.amount,
        unioned.billed_amount,
        exchange_rates.functional_currency,
        {{ convert_money('unioned.amount', 'exchange_rates.transaction_to_functional_rate') }} as amount_functional,
        exchange_rates.reporting_currency,
        {{ convert_money(convert_money('unioned.amount', 'exchange_rates.transaction_to_functional_rate'), 'exchange_rates.functional_to_reporting_rate') }} as amount_reporting,
        'psa' as source_system,
        cast(unioned.project_id as {{ dbt.type_string() }}) as source_record_id
    from unioned
    inner join projects
        on unioned.project_id = projects.project_id
    left join exchange_rates
        on projects.legal_entity_id = exchange_rates.legal_entity_id
        and unioned.currency = exchange_rates.transaction_currency
        and unioned.service_month = exchange_rates.start_date
)

select * from final
