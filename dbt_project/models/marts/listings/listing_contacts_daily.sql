-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='created_date',
    )
}}

with listings as (

    select * from {{ ref('int_listing_contacts') }}

),

final as (

    select
        created_date,
        count(*) as new_listings,
        count(*) filter (where contacted_within_7_days) as listings_contacted_within_7_days,
        round(count(*) filter (where contacted_within_7_days) / count(*), 6)
            as contacted_within_7_days_rate,
        cast(sum(contacts_within_7_days) as bigint) as contacts_within_7_days,
        round(sum(contacts_within_7_days) / count(*), 6) as contacts_per_listing
    from listings
    -- a contact today can make a listing created 7 days ago a contacted one
    where created_date >= {{ rebuild_from(extra_days=7) }}
    group by created_date

)

select * from final
