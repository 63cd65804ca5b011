{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='listing_contacts_daily') }}

select * from {{ ref('listing_contacts_daily') }}
