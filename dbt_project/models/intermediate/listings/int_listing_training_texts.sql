{#- What the data scientists' listing tables need of each listing that costs to compute, once:
    its title and description with contact details redacted (regular expressions over all
    text), its train/validation split (an MD5 of the listing_id, as a 128-bit number, modulo
    10) and its seller's pseudonymised key (a SHA-256 per listing: computed in every publish,
    it was most of what publishing a growing listing_facts cost).

    Incremental by listing: a run computes the listings int_listing_lifecycle rebuilt from its
    landing batch (a listing's text is that of its first listing_created event) and those
    without a row made with the session's pseudonymisation key (a new listing, or every
    listing once the key changed; the rows of its own batch that an earlier run of the date
    built are deleted first: see forget_rows_of_batch). -#}
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
        {{ pseudonymise('seller_id') }} as seller_key,
        {{ pseudonymisation_key_check() }} as key_check,
        last_batch_date
    from lifecycle
    {% if is_incremental() %}
        where
            last_batch_date >= {{ new_batch_date() }}
            or not exists (
                select 1
                from {{ this }} as built
                where
                    built.listing_id = lifecycle.listing_id
                    and built.key_check = {{ pseudonymisation_key_check() }}
            )
    {% endif %}

)

select
    *,
    {{ row_hash() }} as row_hash
from final
