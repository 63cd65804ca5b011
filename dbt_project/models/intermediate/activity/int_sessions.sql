{#- One row per session and day: when it started and ended, who, on which platform. A view: no
    model of the pipeline reads sessions, so a daily run does not pay for grouping every event by
    session; a query for a few dates reads only those dates' partitions of the lake. -#}
{{ config(materialized='view') }}

with events as (

    select * from {{ ref('stg_lake__events') }}

),

final as (

    select
        session_id,
        event_date as session_date,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        any_value(platform) as platform,
        max(user_id) as user_id,
        any_value(anonymous_id) as anonymous_id,
        count(*) as events
    from events
    group by session_id, event_date

)

select * from final
