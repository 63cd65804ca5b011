{#- Listing-level facts with the seller pseudonymised and the text redacted. The redacted text and
    the seller's pseudonym are kept by listing in int_listing_training_texts: each listing is
    redacted and pseudonymised once, not again in every published version. A pseudonym made
    with another key than the session's is an error, never published. -#}
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
        case
            when redacted.key_check = {{ pseudonymisation_key_check() }}
                then redacted.seller_key
            else error('seller pseudonyms made with another key: run the dbt build again')
        end as seller_key,
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
