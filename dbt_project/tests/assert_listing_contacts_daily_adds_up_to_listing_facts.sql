{#- One definition per metric: the day's row of listing_contacts_daily is the day's listings in
    listing_facts, and category_quality_daily counts the same new listings. -#}
with contacts_daily as (

    select * from {{ ref('listing_contacts_daily') }}

),

facts as (

    select * from {{ ref('listing_facts') }}

),

category_quality as (

    select * from {{ ref('category_quality_daily') }}

),

per_day as (

    select
        created_date,
        count(*) as new_listings,
        count(*) filter (where contacted_within_7_days) as listings_contacted_within_7_days,
        sum(contacts_within_7_days) as contacts_within_7_days
    from facts
    group by created_date

),

final as (

    select
        coalesce(per_day.created_date, contacts_daily.created_date) as created_date,
        per_day.new_listings as facts_new_listings,
        contacts_daily.new_listings,
        category_quality.new_listings as category_quality_new_listings,
        per_day.listings_contacted_within_7_days as facts_listings_contacted,
        contacts_daily.listings_contacted_within_7_days,
        per_day.contacts_within_7_days as facts_contacts_within_7_days,
        contacts_daily.contacts_within_7_days
    from per_day
    full outer join contacts_daily on per_day.created_date = contacts_daily.created_date
    left join category_quality
        on
            coalesce(per_day.created_date, contacts_daily.created_date)
            = category_quality.created_date
    where
        per_day.new_listings is distinct from contacts_daily.new_listings
        or contacts_daily.new_listings is distinct from category_quality.new_listings
        or per_day.listings_contacted_within_7_days
        is distinct from contacts_daily.listings_contacted_within_7_days
        or per_day.contacts_within_7_days is distinct from contacts_daily.contacts_within_7_days

)

select * from final
