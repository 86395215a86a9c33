-- One row per accounting period (month) of the ERP: its dates and whether it is closed.
with

periods as (
    select * from {{ ref('stg_netsuite__accounting_periods') }}
    where not is_deleted
        and not is_quarter
        and not is_year
),

final as (
    select
        period_id,
        period_name,
        {{ dbt.concat([
            "cast(extract(year from start_date) as " ~ dbt.type_string() ~ ")",
            "'-'",
            "lpad(cast(extract(month from start_date) as " ~ dbt.type_string() ~ "), 2, '0')",
        ]) }} as fiscal_month,
        start_date,
        end_date,
        is_closed,
        {{ as_utc_timestamp('closed_at') }} as closed_at,
        is_adjustment,
        modified_at,
        'erp' as source_system,
        cast(period_id as {{ dbt.type_string() }}) as source_record_id
    from periods
)

select * from final
