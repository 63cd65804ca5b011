{#- Buyers contacting the seller of each listing created: all contacts so far, the first one,
    and those within 7 days of creation (the same window as the wrong-category one in
    int_listing_lifecycle). Small (one row per listing), rebuilt in full on every run: a contact
    can come any time after a listing's creation, so its all-time count changes with every
    batch and cannot be rebuilt by date. -#}
with listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

),

contacts as (

    select
        event_id,
        listing_id,
        occurred_at as contacted_at
    from events
    where event_type = 'contact_initiated'

),

contacts_per_listing as (

    select
        listings.listing_id,
        count(distinct contacts.event_id) as contacts,
        min(contacts.contacted_at) as first_contact_at,
        count(distinct contacts.event_id) filter (
            where
            contacts.contacted_at >= listings.created_at
            and contacts.contacted_at <= listings.created_at + interval 7 day
        ) as contacts_within_7_days
    from listings
    inner join contacts on listings.listing_id = contacts.listing_id
    group by listings.listing_id

),

final as (

    select
        listings.listing_id,
        listings.created_at,
        listings.created_date,
        coalesce(contacts_per_listing.contacts, 0) as contacts,
        contacts_per_listing.first_contact_at,
        coalesce(contacts_per_listing.contacts_within_7_days, 0) as contacts_within_7_days,
        coalesce(contacts_per_listing.contacts_within_7_days, 0) > 0 as contacted_within_7_days
    from listings
    left join contacts_per_listing on listings.listing_id = contacts_per_listing.listing_id

)

select * from final
