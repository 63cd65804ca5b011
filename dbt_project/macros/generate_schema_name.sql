{#- Schemas are named exactly as configured (staging, marts, analyst, ...), not prefixed with
    the target schema, so the published role databases read like the SPEC's interface. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
