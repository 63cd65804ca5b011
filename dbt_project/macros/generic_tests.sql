{#- Generic data tests this project needs. dbt hub packages (dbt_utils) cannot be installed on
    these machines, so the few we use are written here with dbt_utils' names and arguments. Each
    test selects the offending rows: no rows means the test passes. -#}

{#- The columns together identify a row (a multi-column primary key). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    with grouped as (

        select
            {% for column in combination_of_columns -%}
                {{ column }},
            {% endfor -%}
            count(*) as occurrences
        from {{ model }}
        group by all
        having count(*) > 1

    )

    select * from grouped

{% endtest %}


{#- Every non-null value lies in [min_value, max_value] (either bound may be left out). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

    with out_of_range as (

        select {{ column_name }} as value_out_of_range
        from {{ model }}
        where
            {{ column_name }} is not null
            and (
                false
                {%- if min_value is not none %}
                    or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
                {%- endif %}
                {%- if max_value is not none %}
                    or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
                {%- endif %}
            )

    )

    select * from out_of_range

{% endtest %}


{#- A boolean SQL expression holds on every row, e.g. "dau <= wau and wau <= mau". As in
    dbt_utils, a row where the expression is null passes. -#}
{% test expression_is_true(model, expression) %}

    with violations as (

        select *
        from {{ model }}
        where not ({{ expression }})

    )

    select * from violations

{% endtest %}


{#- Free text holds no e-mail address and no phone-number-like run of 7 or more digits (digits
    separated only by spaces, dots, dashes, slashes or brackets). Independent of how the text was
    redacted: it checks the result, so it fails if a role's view ever exposes unredacted text. -#}
{% test contains_no_contact_details(model, column_name) %}

    with leaks as (

        select {{ column_name }} as leaking_text
        from {{ model }}
        where
            regexp_matches({{ column_name }}, '[^\s@]+@[^\s@]+\.[A-Za-z]{2,}')
            or regexp_matches(
                regexp_replace({{ column_name }}, '[\s().\-/]', '', 'g'), '\d{7,}'
            )

    )

    select * from leaks

{% endtest %}
