{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='listings_daily') }}

select * from {{ ref('listings_daily') }}
