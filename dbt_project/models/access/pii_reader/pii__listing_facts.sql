{#- Listing-level facts as they are: raw seller id and text, for support and debugging. -#}
{{ config(alias='listing_facts') }}

select * from {{ ref('listing_facts') }}
