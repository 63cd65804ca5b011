-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='contact_date',
    )
}}

with events as (

    select * from {{ ref('int_marketplace_events') }}

),

final as (

    select
        event_date as contact_date,
        count(*) as contacts,
        count(distinct listing_id) as listings_contacted
    from events
    where
        event_type = 'contact_initiated'
        and event_date >= {{ rebuild_from() }}
    group by event_date

)

select * from final
