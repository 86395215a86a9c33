-- The offenders of the missing_tax_codes gate: every open exception of its mart (the NetSuite
-- invoice lines to fix), with the gate's measure on every row.
{{ gate_offenders(ref('missing_tax_codes')) }}
