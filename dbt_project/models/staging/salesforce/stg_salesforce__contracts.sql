with

source as (
    select * from {{ source('crm', 'contracts') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='system_modstamp desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        id as contract_id,
        account_id,
        -- strings
        contract_number,
        status as contract_status,
        -- booleans
        (coalesce(is_deleted, false) or _deleted_at is not null) as is_deleted,
        -- dates
        start_date,
        end_date,
        activated_date as activated_at,
        created_date as created_at,
        last_modified_date as modified_at,
        system_modstamp,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
