{#- Personal data handling shared by the access models: pseudonymise keys, redact free text. -#}

{% macro pseudonymise(column) -%}
    {#- A keyed hash: the key is a session variable set from PSEUDONYMISATION_KEY by the
        dataplatform.dbt_session plugin, so it never appears in SQL or logs. -#}
    case
        when {{ column }} is not null
            then 'p_' || left(sha256(getvariable('pseudonymisation_key') || ':' || {{ column }}), 24)
    end
{%- endmacro %}

{% macro redact_contacts(column) -%}
    {#- Emails first (their domain looks like digits-and-dots to the phone pattern), then phone
        numbers: an optional +, then 7 or more digits with spaces, dots, dashes or brackets. -#}
    regexp_replace(
        regexp_replace(
            {{ column }},
            '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}',
            '[email]',
            'g'
        ),
        '(\+?\(?\d[\d\s().-]{5,}\d)',
        '[phone]',
        'g'
    )
{%- endmacro %}
