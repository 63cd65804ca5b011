{#- Personal data handling shared by the access models: pseudonymise keys, redact free text. -#}

{% macro pseudonymisation_key() -%}
    {#- The key: a session variable set from PSEUDONYMISATION_KEY by the
        dataplatform.dbt_session plugin, so it never appears in SQL or logs. -#}
    coalesce(
        getvariable('pseudonymisation_key')::varchar,
        error('no pseudonymisation key in this session: see dataplatform.privacy')
    )
{%- endmacro %}

{% macro pseudonymise(column) -%}
    {#- A keyed hash of the value. -#}
    case
        when {{ column }} is not null
            then 'p_' || left(sha256({{ pseudonymisation_key() }} || ':' || {{ column }}), 24)
    end
{%- endmacro %}

{% macro pseudonymisation_key_check() -%}
    {#- Which key made a stored pseudonym, without telling the key: a hash of it; null in a
        session without a key. A constant of the query that DuckDB computes once, not once per
        row (it would not with error() inside, as in pseudonymisation_key). -#}
    left(sha256('key check:' || getvariable('pseudonymisation_key')::varchar), 16)
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
