-- Salesforce opportunity stages: Salesforce's defaults and the firm's own (tenant profile:
-- vocabulary.stages), each as open, won or lost.
{{ tenant_rows(var('q2c_stages'), ['stage_name', 'stage_category']) }}
