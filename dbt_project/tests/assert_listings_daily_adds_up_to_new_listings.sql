{#- One definition per metric: the listings created on a day, summed over categories, are the
    day's new listings of category_quality_daily. -#}
with listings_daily as (

    select * from {{ ref('listings_daily') }}

),

category_quality as (

    select * from {{ ref('category_quality_daily') }}

),

per_day as (

    select
        created_date,
        sum(listings_created) as listings_created
    from listings_daily
    group by created_date

),

final as (

    select
        coalesce(per_day.created_date, category_quality.created_date) as created_date,
        per_day.listings_created,
        category_quality.new_listings
    from per_day
    full outer join category_quality on per_day.created_date = category_quality.created_date
    where per_day.listings_created is distinct from category_quality.new_listings

)

select * from final
