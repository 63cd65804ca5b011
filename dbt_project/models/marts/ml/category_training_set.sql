{#- Training data for the category-suggestion model: listing text with contact details
    redacted, the category the listing ended up in after the seller's corrections within 7
    days, and a split that never changes (a hash of listing_id), stamped with the published
    version it belongs to.

    A view: every row carries the version being published, so a table would be rewritten whole
    on every run. What costs, the redaction and the split, is kept by listing in
    int_listing_training_texts; publishing copies the rows into the role files. -#}
{{ config(materialized='view') }}

with listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

texts as (

    select * from {{ ref('int_listing_training_texts') }}

),

final as (

    select
        listings.listing_id,
        texts.title,
        texts.description,
        listings.category_id_after_7_days as category_id,
        texts.split,
        '{{ var("version_id") }}' as version_id
    from listings
    inner join texts on listings.listing_id = texts.listing_id

)

select * from final
