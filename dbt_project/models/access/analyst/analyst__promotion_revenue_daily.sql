{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='promotion_revenue_daily') }}

select * from {{ ref('promotion_revenue_daily') }}
