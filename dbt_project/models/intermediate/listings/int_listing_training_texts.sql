{#- What the category training set needs of each listing that costs to compute, once: its
    title and description with contact details redacted (regular expressions over all text)
    and its train/validation split (an MD5 of the listing_id, as a 128-bit number, modulo 10).

    Incremental by listing: a run computes the listings int_listing_lifecycle rebuilt from its
    landing batch (a listing's text is that of its first listing_created event) and those
    without a row (the rows of its own batch that an earlier run of the date built are
    deleted first: see forget_rows_of_batch). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='listing_id',
        pre_hook="{{ forget_rows_of_batch('last_batch_date') }}",
    )
}}

with lifecycle as (

    select * from {{ ref('int_listing_lifecycle') }}

),

final as (

    select
        listing_id,
        {{ redact_contacts('title') }} as title,
        {{ redact_contacts('description') }} as description,
        case
            when md5_number(cast(listing_id as varchar)) % 10 < 8
                then 'train'
            else 'validation'
        end as split,
        last_batch_date
    from lifecycle
    {% if is_incremental() %}
        where
            last_batch_date >= {{ new_batch_date() }}
            or not exists (
                select 1
                from {{ this }} as built
                where built.listing_id = lifecycle.listing_id
            )
    {% endif %}

)

select * from final
