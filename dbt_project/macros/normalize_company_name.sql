{#- The customer-name rule of the duplicate-customer contract (simulator/firm/names.py `normalize`):
    lower-case; accents stripped (Unicode: "Müller" -> "muller"), ß -> ss, final sigma ς -> σ
    (lower() gives "ΒΟΡΈΑΣ" a σ, "Βορέας" keeps its ς), & -> and; drop . , and
    the apostrophes ' ‘ ’;
    every other run of characters that are neither letters nor digits (in any script, so
    "株式会社" stays) becomes one space; trim; then strip trailing legal-suffix tokens, never the
    last remaining token (the pattern needs a space before each suffix).
    "Northwind-Analytics, L.L.C." -> "northwind analytics";
    "Müller & Söhne GmbH" -> "muller and sohne"; "Straße & Co. KG" -> "strasse and".
    A name with no letter or digit left is empty; int_customers__source_records makes it null. -#}

{% macro legal_suffix_tokens() -%}
    {{ return(var('legal_suffix_tokens', ['inc', 'incorporated', 'corp', 'corporation', 'co', 'company',
                                          'llc', 'llp', 'ltd', 'limited', 'plc', 'pty', 'gmbh', 'ag', 'kg',
                                          'sa', 'sarl', 'spa', 'srl', 'bv', 'nv', 'ab', 'oy', 'as'])) }}
{%- endmacro %}

{% macro normalize_company_name(column) -%}
    {{ return(adapter.dispatch('normalize_company_name', 'q2c')(column)) }}
{%- endmacro %}

{#- One rule, written for DuckDB (RE2's Unicode classes \p{L} \p{N}, strip_accents). An engine
    that lacks either adds its own `<adapter>__normalize_company_name`, which must pass the unit
    test customer_names_normalize_by_the_duplicate_rule: an ASCII-only variant would turn every
    name in another script into an empty one. -#}
{% macro default__normalize_company_name(column) -%}
    regexp_replace(
        trim(regexp_replace(
            regexp_replace(
                replace(replace(replace(strip_accents(lower({{ column }})), 'ß', 'ss'), 'ς', 'σ'), '&', ' and '),
                '[.,''‘’]', '', 'g'
            ),
            '[^\p{L}\p{N}]+', ' ', 'g'
        )),
        '( ({{ q2c.legal_suffix_tokens() | join("|") }}))+$',
        ''
    )
{%- endmacro %}
