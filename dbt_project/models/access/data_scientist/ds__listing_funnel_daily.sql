{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='listing_funnel_daily') }}

select * from {{ ref('listing_funnel_daily') }}
