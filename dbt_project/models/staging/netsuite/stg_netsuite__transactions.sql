with

source as (
    select * from {{ source('erp', 'transaction') }}
),

-- the latest version of each record (a record can land more than once)
deduplicated as (
    {{ deduplicate('source', partition_by='id', order_by='lastmodifieddate desc, _dlt_load_id desc') }}
),

renamed as (
    select
        -- ids
        cast(id as integer) as transaction_id,
        cast(entity as integer) as customer_id,
        cast(subsidiary as integer) as subsidiary_id,
        cast(currency as integer) as currency_id,
        cast(postingperiod as integer) as period_id,
        cast(createdfrom as integer) as created_from_transaction_id,
        nullif(trim({{ erp_field('transaction_deal') }}), '') as opportunity_id,
        -- the header's tax item, in a firm with entities that carry tax on the header (profile:
        -- tax.header_level_countries; otherwise the field is not read)
        {%- if var('q2c_header_tax_countries') %}
        cast(taxitem as integer) as header_tax_code_id,
        {%- else %}
        cast(null as integer) as header_tax_code_id,
        {%- endif %}
        -- strings
        tranid as transaction_number,
        -- the number the PSA gave the invoice (profile: links.billed_time_invoice)
        {{ adapter.quote(var('q2c_invoice_number_field') or 'tranid') }} as psa_invoice_number,
        type as transaction_type,
        status,
        memo,
        -- numerics
        cast(exchangerate as decimal(18, 6)) as exchange_rate,
        {{ netsuite_money('foreigntotal') }} as total_amount,
        {%- if var('q2c_header_tax_countries') %}
        {{ netsuite_money('taxtotal') }} as header_tax_amount,
        {%- else %}
        cast(null as {{ money_type() }}) as header_tax_amount,
        {%- endif %}
        -- dates
        {{ netsuite_date('trandate') }} as transaction_date,
        {{ netsuite_date('duedate') }} as due_date,
        {{ netsuite_timestamp('createddate') }} as created_at,
        lastmodifieddate as modified_at,
        -- deletes (flagged, never removed)
        (_deleted_at is not null) as is_deleted,
        _deleted_at as deleted_at,
        _dlt_load_id
    from deduplicated
)

select * from renamed
