-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
    )
}}
{% set first_rebuilt_date = rebuild_from() %}

with activity as (

    select * from {{ ref('int_user_activity_daily') }}

),

dates as (

    -- every later date's 7- and 28-day windows include the touched dates
    select distinct activity_date
    from activity
    where activity_date >= {{ first_rebuilt_date }}

),

windowed as (

    select
        dates.activity_date,
        activity.platform,
        activity.user_id,
        activity.activity_date as seen_date
    from dates
    inner join activity
        on
            dates.activity_date - interval 28 day < activity.activity_date
            and dates.activity_date >= activity.activity_date
    -- only the 28 days before the first rebuilt date reach into a rebuilt window
    where activity.activity_date > {{ first_rebuilt_date }} - interval 28 day

),

last_seen as (

    -- each user's last active day in each rebuilt date's window, per platform and (with a
    -- null platform) on any platform: one row per user that the counts below only filter,
    -- instead of a distinct count over every active day
    select
        activity_date,
        platform,
        user_id,
        max(seen_date) as last_seen_date
    from windowed
    group by grouping sets ((activity_date, platform, user_id), (activity_date, user_id))

),

final as (

    select
        activity_date,
        coalesce(platform, 'all') as platform,
        count(*) filter (where last_seen_date = activity_date) as dau,
        count(*) filter (where last_seen_date > activity_date - interval 7 day) as wau,
        count(*) as mau
    from last_seen
    group by activity_date, platform

)

select * from final
