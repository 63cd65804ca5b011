{#- Who was active on which platform on which day: the basis of DAU/WAU/MAU.

    Incremental by batch: events only ever add activity, so a run adds the (date, platform,
    user) rows of its landing batch that are not there yet, instead of rebuilding every date
    the batch touched from all of those dates' events. Each row records the first batch that
    had it; a date run again with its batch delivered anew first deletes the rows that batch
    added (see forget_rows_of_batch). -#}
-- depends_on: {{ ref('int_landing_batches') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ forget_rows_of_batch('first_batch_date') }}",
    )
}}

with events as (

    select * from {{ ref('stg_lake__events') }}
    where
        user_id is not null
        {% if is_incremental() %}
            and batch_date = {{ new_batch_date() }}
        {% endif %}

),

activity as (

    select
        event_date as activity_date,
        platform,
        user_id,
        min(batch_date) as first_batch_date
    from events
    group by event_date, platform, user_id

),

final as (

    select * from activity
    {% if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as recorded
            where
                recorded.activity_date = activity.activity_date
                and recorded.platform = activity.platform
                and recorded.user_id = activity.user_id
                -- the batch's events are of these dates and later
                and recorded.activity_date >= {{ rebuild_from() }}
        )
    {% endif %}

)

select * from final
