{#- Data scientists see every listing's seller as a keyed pseudonym (p_ and 24 hex digits): never
    the raw user id, and never null where the listing has a seller. -#}

with facts as (

    select * from {{ ref('listing_facts') }}

),

ds_facts as (

    select * from {{ ref('ds__listing_facts') }}

),

final as (

    select
        ds_facts.listing_id,
        ds_facts.seller_key
    from facts
    inner join ds_facts on facts.listing_id = ds_facts.listing_id
    where
        (facts.seller_id is null) <> (ds_facts.seller_key is null)
        or not regexp_full_match(ds_facts.seller_key, 'p_[0-9a-f]{24}')

)

select * from final
