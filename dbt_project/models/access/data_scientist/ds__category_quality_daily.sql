{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='category_quality_daily') }}

select * from {{ ref('category_quality_daily') }}
