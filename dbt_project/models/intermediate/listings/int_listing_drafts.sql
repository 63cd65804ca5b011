{#- The listing-creation funnel, one row per draft: started, suggested, created. A draft is
    completed when a listing_created with its draft_id follows within 24 hours. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='started_date',
    )
}}

with events as (

    select * from {{ ref('stg_lake__events') }}
    -- a draft started the day before can be completed by today's events
    where event_date >= {{ rebuild_from(extra_days=1) }}

),

started as (

    select
        draft_id,
        min(occurred_at) as started_at,
        arg_min(user_id, occurred_at) as user_id,
        arg_min(platform, occurred_at) as platform
    from events
    where event_type = 'listing_creation_started'
    group by draft_id

),

created as (

    select
        draft_id,
        min(occurred_at) as created_at,
        arg_min(listing_id, occurred_at) as listing_id
    from events
    where event_type = 'listing_created'
    group by draft_id

),

final as (

    select
        started.draft_id,
        started.user_id,
        started.platform,
        started.started_at,
        cast(started.started_at as date) as started_date,
        created.created_at,
        created.listing_id,
        coalesce(
            created.created_at >= started.started_at
            and created.created_at <= started.started_at + interval 24 hour,
            false
        ) as completed_within_24h
    from started
    left join created on started.draft_id = created.draft_id
    where cast(started.started_at as date) >= {{ rebuild_from(extra_days=1) }}

)

select * from final
