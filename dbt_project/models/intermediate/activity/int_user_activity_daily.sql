{#- Who was active on which platform on which day: the basis of DAU/WAU/MAU. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
    )
}}

with events as (

    select * from {{ ref('stg_lake__events') }}

),

final as (

    select distinct
        event_date as activity_date,
        platform,
        user_id
    from events
    where
        user_id is not null
        and event_date >= {{ rebuild_from() }}

)

select * from final
