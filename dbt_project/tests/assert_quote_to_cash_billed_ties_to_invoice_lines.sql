-- Every invoice line is billed on a deal: per legal entity and currency, quote_to_cash's billed
-- amounts (deal currency and other currency) equal the canonical invoice lines. Rows returned are
-- the (entity, currency) pairs that disagree.
{{ config(severity='warn') }}

with

lines as (
    select
        legal_entity_id,
        currency,
        sum(net_amount) as amount
    from {{ ref('invoice_lines') }}
    where invoice_type = 'invoice'
    group by
        legal_entity_id,
        currency
),

deal_currency as (
    select
        legal_entity_id,
        currency,
        billed_amount as amount
    from {{ ref('quote_to_cash') }}
),

other_currency as (
    select
        legal_entity_id,
        other_currency as currency,
        billed_amount_other_currency as amount
    from {{ ref('quote_to_cash') }}
    where other_currency is not null
),

billed as (
    select
        legal_entity_id,
        currency,
        sum(amount) as amount
    from (
        select * from deal_currency
        union all
        select * from other_currency
    ) as unioned
    group by
        legal_entity_id,
        currency
    having sum(amount) <> 0
),

final as (
    select
        coalesce(lines.legal_entity_id, billed.legal_entity_id) as legal_entity_id,
        coalesce(lines.currency, billed.currency) as currency,
        lines.amount as invoiced,
        billed.amount as billed
    from lines
    full outer join billed
        on lines.legal_entity_id = billed.legal_entity_id
        and lines.currency = billed.currency
    where coalesce(lines.amount, 0) <> coalesce(billed.amount, 0)
)

select * from final
