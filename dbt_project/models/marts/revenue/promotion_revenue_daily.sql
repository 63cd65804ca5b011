-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='purchase_date',
    )
}}

with events as (

    select * from {{ ref('int_marketplace_events') }}

),

final as (

    select
        event_date as purchase_date,
        promotion_product as product,
        currency,
        count(*) as purchases,
        round(sum(amount), 2) as revenue
    from events
    where
        event_type = 'promotion_purchased'
        and event_date >= {{ rebuild_from() }}
    group by event_date, promotion_product, currency

)

select * from final
