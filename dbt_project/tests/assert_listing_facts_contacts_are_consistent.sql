{#- A listing's contacts are contact_initiated events: all listings together have no more
    contacts than contacts_daily counts (contacts about listings created before the event history
    are only there), and each listing has a first contact exactly when it has contacts, no more
    contacts within 7 days than in all, and is contacted within 7 days exactly when it has such
    contacts (never when its first contact came after the window). -#}
with facts as (

    select * from {{ ref('listing_facts') }}

),

contacts_daily as (

    select * from {{ ref('contacts_daily') }}

),

totals as (

    select
        sum(facts.contacts) as listing_contacts,
        (select sum(contacts_daily.contacts) from contacts_daily) as all_contacts
    from facts

),

inconsistent_listings as (

    select
        listing_id,
        'listing' as problem
    from facts
    where
        (contacts > 0) <> (first_contact_at is not null)
        or contacts_within_7_days > contacts
        or contacted_within_7_days <> (contacts_within_7_days > 0)
        or first_contact_at > created_at + interval 7 day and contacted_within_7_days

),

final as (

    select
        null as listing_id,
        'more listing contacts than contacts' as problem
    from totals
    where totals.listing_contacts > coalesce(totals.all_contacts, 0)
    union all
    select
        listing_id,
        problem
    from inconsistent_listings

)

select * from final
