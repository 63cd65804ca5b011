-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='created_date',
    )
}}

with listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

final as (

    select
        created_date,
        count(*) as new_listings,
        count(*) filter (where changed_within_7_days) as wrong_category_listings,
        round(count(*) filter (where changed_within_7_days) / count(*), 6)
            as wrong_category_rate,
        count(*) filter (where suggestion_shown) as suggestions_shown,
        count(*) filter (where suggestion_accepted) as suggestions_accepted,
        round(
            count(*) filter (where suggestion_accepted)
            / nullif(count(*) filter (where suggestion_shown), 0),
            6
        ) as acceptance_rate
    from listings
    where created_date >= {{ rebuild_from(extra_days=7) }}
    group by created_date

)

select * from final
