{#- The listing-creation funnel, one row per draft: started, suggested, created. A draft is
    completed when a listing_created with its draft_id follows within 24 hours.

    Incremental by draft: a run rebuilds, each from all of its events, the drafts its landing
    batch has a start or a listing for (a draft started the day before can be completed by
    today's events, and one started earlier still gets its listing), and the drafts started
    but without a row (the rows of its own batch that an earlier run of the date built are
    deleted first: see forget_rows_of_batch). No other draft's events changed. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='draft_id',
        pre_hook="{{ forget_rows_of_batch('last_batch_date') }}",
    )
}}

with events as (

    select * from {{ ref('int_marketplace_events') }}
    where
        event_type in ('listing_creation_started', 'listing_created')
        {% if is_incremental() %}
            and draft_id in ({{ keys_to_rebuild(
                'draft_id',
                ['listing_creation_started', 'listing_created'],
                'listing_creation_started',
            ) }})
        {% endif %}

),

batches as (

    select
        draft_id,
        max(batch_date) as last_batch_date
    from events
    group by draft_id

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
        ) as completed_within_24h,
        batches.last_batch_date
    from started
    left join created on started.draft_id = created.draft_id
    inner join batches on started.draft_id = batches.draft_id

)

select * from final
