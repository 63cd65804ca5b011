{#- Listing-level facts with the seller pseudonymised and the text redacted. The redacted text is
    the training set's, kept by listing in int_listing_training_texts: each listing is redacted
    once, not again in every published version. -#}
{{ config(alias='listing_facts') }}

with facts as (

    select * from {{ ref('listing_facts') }}

),

redacted as (

    select * from {{ ref('int_listing_training_texts') }}

),

final as (

    select
        facts.listing_id,
        {{ pseudonymise('facts.seller_id') }} as seller_key,
        facts.platform,
        facts.created_at,
        facts.created_date,
        facts.category_id,
        facts.category_name,
        facts.parent_name,
        facts.suggested_category_id,
        facts.suggestion_accepted,
        facts.changed_within_7_days,
        facts.category_id_after_7_days,
        facts.price,
        facts.currency,
        redacted.title,
        redacted.description,
        facts.contacts,
        facts.first_contact_at,
        facts.contacts_within_7_days,
        facts.contacted_within_7_days
    from facts
    inner join redacted on facts.listing_id = redacted.listing_id

)

select * from final
