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
        category_id,
        count(distinct listing_id) as listings_created
    from listings
    where created_date >= {{ rebuild_from() }}
    group by created_date, category_id

)

select * from final
