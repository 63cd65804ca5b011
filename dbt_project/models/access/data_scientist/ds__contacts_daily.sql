{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='contacts_daily') }}

select * from {{ ref('contacts_daily') }}
