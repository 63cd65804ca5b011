{#- Statistics for experiment analysis, in plain SQL (DuckDB has no normal CDF). -#}

{% macro normal_cdf(x) -%}
    {#- Standard normal CDF via the complementary error function, Numerical Recipes' erfc
        approximation (fractional error below 1.2e-7 everywhere). -#}
    (
        case when {{ x }} >= 0 then 1 - 0.5 * {{ _erfc_tail('abs(' ~ x ~ ') / sqrt(2)') }}
        else 0.5 * {{ _erfc_tail('abs(' ~ x ~ ') / sqrt(2)') }}
        end
    )
{%- endmacro %}

{% macro _erfc_tail(z) -%}
    (
        (1 / (1 + 0.5 * {{ z }}))
        * exp(
            -({{ z }}) * ({{ z }}) - 1.26551223
            + (1 / (1 + 0.5 * {{ z }})) * (1.00002368
            + (1 / (1 + 0.5 * {{ z }})) * (0.37409196
            + (1 / (1 + 0.5 * {{ z }})) * (0.09678418
            + (1 / (1 + 0.5 * {{ z }})) * (-0.18628806
            + (1 / (1 + 0.5 * {{ z }})) * (0.27886807
            + (1 / (1 + 0.5 * {{ z }})) * (-1.13520398
            + (1 / (1 + 0.5 * {{ z }})) * (1.48851587
            + (1 / (1 + 0.5 * {{ z }})) * (-0.82215223
            + (1 / (1 + 0.5 * {{ z }})) * 0.17087277))))))))
        )
    )
{%- endmacro %}

{% macro two_sided_p_value(z) -%}
    2 * (1 - {{ normal_cdf('abs(' ~ z ~ ')') }})
{%- endmacro %}
