-- The offenders of the unbilled_approved_time gate: every open exception of its mart (the
-- Harvest time entries to invoice), with the gate's measure, their absolute amount in the
-- reporting currency, on every row (the GX suite compares it with the threshold).
{{ gate_offenders(ref('unbilled_approved_time')) }}
