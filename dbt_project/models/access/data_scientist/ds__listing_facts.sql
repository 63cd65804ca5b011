{#- Listing-level facts with the seller pseudonymised and the text redacted. -#}
{{ config(alias='listing_facts') }}

select
    listing_id,
    {{ pseudonymise('seller_id') }} as seller_key,
    platform,
    created_at,
    created_date,
    category_id,
    category_name,
    parent_name,
    suggested_category_id,
    suggestion_accepted,
    changed_within_7_days,
    category_id_after_7_days,
    price,
    currency,
    {{ redact_contacts('title') }} as title,
    {{ redact_contacts('description') }} as description,
    contacts,
    first_contact_at,
    contacts_within_7_days,
    contacted_within_7_days
from {{ ref('listing_facts') }}
