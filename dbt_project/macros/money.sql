{#- Money is a decimal with its currency code next to it, never a float. -#}

{% macro money_type() -%}
    decimal(18, 2)
{%- endmacro %}

{% macro rate_type() -%}
    decimal(18, 6)
{%- endmacro %}

{#- An amount times an exchange rate, rounded half away from zero to the cent. -#}
{% macro convert_money(amount, rate) -%}
    cast(round({{ amount }} * {{ rate }}, 2) as {{ q2c.money_type() }})
{%- endmacro %}
