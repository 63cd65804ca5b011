{#- Buyers contacting the seller of each listing created: all contacts so far, the first one,
    and those within 7 days of creation (the same window as the wrong-category one in
    int_listing_lifecycle).

    Incremental by listing: a contact can come any time after a listing's creation, so its
    all-time count cannot be rebuilt by date. A run rebuilds, each from all of its contacts,
    the listings its landing batch has contacts for, those int_listing_lifecycle rebuilt from
    the same batch (new, or created earlier than known), and those without a row (the rows of
    its own batch that an earlier run of the date built are deleted first: see
    forget_rows_of_batch). -#}
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

events as (

    select * from {{ ref('int_marketplace_events') }}
    where event_type = 'contact_initiated'

),

contacts as (

    select
        event_id,
        listing_id,
        occurred_at as contacted_at,
        batch_date
    from events

),

listings as (

    select
        listing_id,
        created_at,
        created_date,
        last_batch_date
    from lifecycle
    {% if is_incremental() %}
        where
            last_batch_date >= {{ new_batch_date() }}
            or listing_id in (
                select batch_contacts.listing_id
                from {{ ref('int_marketplace_events') }} as batch_contacts
                where
                    batch_contacts.event_type = 'contact_initiated'
                    and batch_contacts.batch_date = {{ new_batch_date() }}
            )
            or not exists (
                select 1
                from {{ this }} as built
                where built.listing_id = lifecycle.listing_id
            )
    {% endif %}

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
        ) as contacts_within_7_days,
        max(contacts.batch_date) as last_batch_date
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
        coalesce(contacts_per_listing.contacts_within_7_days, 0) > 0 as contacted_within_7_days,
        greatest(listings.last_batch_date, contacts_per_listing.last_batch_date)
            as last_batch_date
    from listings
    left join contacts_per_listing on listings.listing_id = contacts_per_listing.listing_id

)

select
    *,
    {{ row_hash() }} as row_hash
from final
