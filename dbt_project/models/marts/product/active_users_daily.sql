-- depends_on: {{ ref('stg_lake__events') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
    )
}}

with activity as (

    select * from {{ ref('int_user_activity_daily') }}

),

dates as (

    -- every later date's 7- and 28-day windows include the touched dates
    select distinct activity_date
    from activity
    where activity_date >= {{ rebuild_from() }}

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

),

final as (

    select
        activity_date,
        coalesce(platform, 'all') as platform,
        count(distinct user_id) filter (where seen_date = activity_date) as dau,
        count(distinct user_id) filter (
            where seen_date > activity_date - interval 7 day
        ) as wau,
        count(distinct user_id) as mau
    from windowed
    group by grouping sets ((activity_date, platform), (activity_date))

)

select * from final
