{#- Training data for the category-suggestion model: listing text with contact details
    redacted, the category the listing ended up in after the seller's corrections within 7
    days, and a split that never changes (a hash of listing_id), stamped with the published
    version it belongs to. -#}
with listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

final as (

    select
        listing_id,
        {{ redact_contacts('title') }} as title,
        {{ redact_contacts('description') }} as description,
        category_id_after_7_days as category_id,
        case
            when md5_number(cast(listing_id as varchar)) % 10 < 8 then 'train' else 'validation'
        end as split,
        '{{ var("version_id") }}' as version_id
    from listings

)

select * from final
