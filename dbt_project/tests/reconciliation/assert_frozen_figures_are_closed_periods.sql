-- Only periods the ERP has closed are frozen.
select
    period_close_snapshots.period_entity_key,
    period_close_snapshots.frozen_at,
    periods.is_closed
from {{ ref('period_close_snapshots') }} as period_close_snapshots
left join {{ ref('periods') }} as periods
    on period_close_snapshots.period_id = periods.period_id
where periods.period_id is null
    or not periods.is_closed
