{#- Personal data handling shared by the access models: pseudonymise keys, redact free text. -#}

{% macro pseudonymise(column) -%}
    {#- A keyed hash: the key is a session variable set from PSEUDONYMISATION_KEY by the
        dataplatform.dbt_session plugin, so it never appears in SQL or logs. -#}
    case
        when {{ column }} is not null
            then 'p_' || left(sha256(
                coalesce(
                    getvariable('pseudonymisation_key')::varchar,
                    error('no pseudonymisation key in this session: see dataplatform.privacy')
                ) || ':' || {{ column }}
            ), 24)
    end
{%- endmacro %}

{% macro redact_contacts(column) -%}
    {#- Emails first (their domain looks like digits-and-dots to the phone pattern), then phone
        numbers: an optional +, then 7 or more digits with spaces, dots, dashes, slashes or
        brackets (German numbers are often written 0151/12345678). -#}
    regexp_replace(
        regexp_replace(
            {{ column }},
            '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}',
            '[email]',
            'g'
        ),
        '(\+?\(?\d[\d\s()./-]{5,}\d)',
        '[phone]',
        'g'
    )
{%- endmacro %}
