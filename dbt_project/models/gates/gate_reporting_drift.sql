-- The offenders of the reporting_drift gate: the drift that blocks the close. Contract reasons
-- (PSA billed vs ERP invoiced, records changed after the close) and figures that moved since
-- they were frozen; drift shown for review only (bookings vs sales orders) does not block.
{{ gate_offenders(ref('reporting_drift'), "is_contract_reason or reason = 'frozen_figures_changed'") }}
