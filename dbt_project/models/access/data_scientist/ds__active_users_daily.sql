{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='active_users_daily') }}

select * from {{ ref('active_users_daily') }}
