-- A cross-system link covers at least var('link_coverage_min') of its records (a warning: the
-- rules still run, on what is linked). One row per link below its minimum, with the tenant-profile
-- key to look at and a sample of the unlinked source records.
{{ config(severity='warn') }}

select
    link,
    profile_key,
    population,
    linked_count,
    coverage,
    min_coverage,
    unlinked_sample
from {{ ref('link_coverage') }}
where is_below_minimum
