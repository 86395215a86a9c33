-- Sync latency per source record: the time from the record's last modification in its source
-- system (Salesforce SystemModstamp, Harvest updated_at, NetSuite lastmodifieddate) to the moment
-- the warehouse loaded that version (the load's `inserted_at` in raw_<system>._dlt_loads, joined
-- through the record's `_dlt_load_id`). The latest version of every record, per resource.
-- `is_synced_change` marks versions changed after the system's previous load: changes an
-- incremental sync picked up, the ones that measure latency (a first, full load brings every
-- record at once, and its "latency" is only the record's age).
{%- set resources = [
    ('crm', 'accounts', 'stg_salesforce__accounts', 'system_modstamp'),
    ('crm', 'opportunities', 'stg_salesforce__opportunities', 'system_modstamp'),
    ('crm', 'opportunity_line_items', 'stg_salesforce__opportunity_line_items', 'system_modstamp'),
    ('crm', 'contracts', 'stg_salesforce__contracts', 'system_modstamp'),
    ('psa', 'clients', 'stg_harvest__clients', 'updated_at'),
    ('psa', 'projects', 'stg_harvest__projects', 'updated_at'),
    ('psa', 'time_entries', 'stg_harvest__time_entries', 'updated_at'),
    ('psa', 'users', 'stg_harvest__users', 'updated_at'),
    ('psa', 'expenses', 'stg_harvest__expenses', 'updated_at'),
    ('erp', 'customer', 'stg_netsuite__customers', 'modified_at'),
    ('erp', 'transaction', 'stg_netsuite__transactions', 'modified_at'),
    ('erp', 'transactionline', 'stg_netsuite__transaction_lines', 'modified_at'),
    ('erp', 'accountingperiod', 'stg_netsuite__accounting_periods', 'modified_at'),
] %}

with

raw_loads as (
    select 'crm' as source_system, load_id, inserted_at from {{ source('crm_loads', '_dlt_loads') }}
    union all
    select 'psa' as source_system, load_id, inserted_at from {{ source('psa_loads', '_dlt_loads') }}
    union all
    select 'erp' as source_system, load_id, inserted_at from {{ source('erp_loads', '_dlt_loads') }}
),

loads as (
    select
        raw_loads.*,
        lag(raw_loads.inserted_at) over (
            partition by raw_loads.source_system
            order by raw_loads.inserted_at
        ) as previous_loaded_at
    from raw_loads
),

records as (
    {%- for system, resource, model, modified in resources %}
    select
        '{{ system }}' as source_system,
        '{{ resource }}' as resource,
        _dlt_load_id as load_id,
        {{ modified }} as source_modified_at
    from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        records.source_system,
        records.resource,
        records.load_id,
        records.source_modified_at,
        loads.inserted_at as loaded_at,
        loads.previous_loaded_at,
        coalesce(records.source_modified_at > loads.previous_loaded_at, false) as is_synced_change,
        {{ dbt.datediff('records.source_modified_at', 'loads.inserted_at', 'second') }} as latency_seconds
    from records
    inner join loads
        on records.source_system = loads.source_system
        and records.load_id = loads.load_id
)

select * from final
