-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='funnel_date',
    )
}}

with drafts as (

    select * from {{ ref('int_listing_drafts') }}

),

final as (

    select
        started_date as funnel_date,
        count(*) as creations_started,
        count(*) filter (where completed_within_24h) as listings_created,
        round(count(*) filter (where completed_within_24h) / count(*), 6) as completion_rate
    from drafts
    where started_date >= {{ rebuild_from(extra_days=1) }}
    group by started_date

)

select * from final
