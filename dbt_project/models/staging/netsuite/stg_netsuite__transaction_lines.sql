with

source as (
    select * from {{ source('erp', 'transactionline') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='uniquekey', order_by='linelastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(uniquekey as bigint) as transaction_line_id,
        cast("transaction" as integer) as transaction_id,
        cast(id as integer) as line_number,
        cast(subsidiary as integer) as subsidiary_id,
        cast(item as integer) as item_id,
        cast(taxcode as integer) as tax_code_id,
        nullif(trim({{ erp_field('line_project') }}), '') as psa_project_id,
        -- strings
        memo,
        -- numerics
        cast(linesequencenumber as integer) as line_sequence,
        cast(quantity as decimal(10, 2)) as quantity,
        {{ netsuite_money('rate') }} as rate,
        {{ netsuite_money('netamount') }} as net_amount,
        {{ netsuite_money('tax1amt') }} as tax_amount,
        -- booleans
        {{ netsuite_bool('mainline') }} as is_main_line,
        -- whether the header's tax applies to the line (profile: tax.header_level_countries)
        {%- if var('q2c_header_tax_countries') %}
        {{ netsuite_bool('istaxable') }} as is_taxable,
        {%- else %}
        cast(null as boolean) as is_taxable,
        {%- endif %}
        -- dates
        linelastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
