{#- One row per listing created: the listing-level table data scientists analyse, with its
    contacts. Still holds the seller's raw user_id and raw text; the access models pseudonymise
    and redact.

    A view over tables kept incrementally: as a table it would be rewritten whole on every run
    (a listing's contacts change at any time, and a category's name with the operational
    database); publishing copies the rows into the role files. -#}
{{ config(materialized='view') }}

with listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

categories as (

    select * from {{ ref('categories') }}

),

contacts as (

    select * from {{ ref('int_listing_contacts') }}

),

final as (

    select
        listings.listing_id,
        listings.seller_id,
        listings.platform,
        listings.created_at,
        listings.created_date,
        listings.category_id,
        categories.category_name,
        categories.parent_name,
        listings.suggested_category_id,
        listings.suggestion_accepted,
        listings.changed_within_7_days,
        listings.category_id_after_7_days,
        listings.price,
        listings.currency,
        listings.title,
        listings.description,
        contacts.contacts,
        contacts.first_contact_at,
        contacts.contacts_within_7_days,
        contacts.contacted_within_7_days
    from listings
    left join categories on listings.category_id = categories.category_id
    left join contacts on listings.listing_id = contacts.listing_id

)

select * from final
