-- Every exception's history holds together: open ones have no resolution, resolved ones have
-- one, and nothing is resolved or last seen before it was first detected.
select
    exception_type,
    source_system,
    source_record_id,
    status,
    first_detected_at,
    last_seen_at,
    resolved_at
from {{ ref('exceptions') }}
where (status = 'open' and resolved_at is not null)
    or (status = 'resolved' and resolved_at is null)
    or last_seen_at < first_detected_at
    or resolved_at < first_detected_at
    or resolved_at < last_seen_at
