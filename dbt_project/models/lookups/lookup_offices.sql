-- The firm's offices (tenant profile: vocabulary.offices): a place as Harvest holds it (a
-- consultant's office role, a client's address) and its ISO country, which names the legal entity.
{{ tenant_rows(var('q2c_offices'), ['location', 'country_code']) }}
