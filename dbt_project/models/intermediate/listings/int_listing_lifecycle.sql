{#- One row per listing created: what the seller chose, what the model suggested, and whether
    the category was changed within 7 days (the listing was in the wrong category).

    Incremental by listing: a run rebuilds, each from all of its events, the listings its
    landing batch has a creation or a category change for (a late change can make a listing
    created days before a wrong-category one), and the listings with a creation but no row
    (the rows of its own batch that an earlier run of the date built are deleted first: see
    forget_rows_of_batch). No other listing's events changed. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='listing_id',
        pre_hook="{{ forget_rows_of_batch('last_batch_date') }}",
    )
}}

with events as (

    select * from {{ ref('int_marketplace_events') }}
    where
        event_type in ('listing_created', 'listing_category_changed')
        {% if is_incremental() %}
            and listing_id in ({{ keys_to_rebuild(
                'listing_id',
                ['listing_created', 'listing_category_changed'],
                'listing_created',
            ) }})
        {% endif %}

),

batches as (

    select
        listing_id,
        max(batch_date) as last_batch_date
    from events
    group by listing_id

),

created as (

    select
        listing_id,
        arg_min(draft_id, occurred_at) as draft_id,
        arg_min(user_id, occurred_at) as seller_id,
        arg_min(platform, occurred_at) as platform,
        min(occurred_at) as created_at,
        arg_min(category_id, occurred_at) as category_id,
        arg_min(suggested_category_id, occurred_at) as suggested_category_id,
        arg_min(price, occurred_at) as price,
        arg_min(currency, occurred_at) as currency,
        arg_min(title, occurred_at) as title,
        arg_min(description, occurred_at) as description
    from events
    where event_type = 'listing_created'
    group by listing_id

),

changes as (

    select
        listing_id,
        occurred_at as changed_at,
        new_category_id
    from events
    where event_type = 'listing_category_changed'

),

changes_within_7_days as (

    select
        created.listing_id,
        count(*) as changes,
        arg_max(changes.new_category_id, changes.changed_at) as last_category_id
    from created
    inner join changes
        on
            created.listing_id = changes.listing_id
            and created.created_at <= changes.changed_at
            and created.created_at + interval 7 day >= changes.changed_at
    group by created.listing_id

),

final as (

    select
        created.listing_id,
        created.draft_id,
        created.seller_id,
        created.platform,
        created.created_at,
        cast(created.created_at as date) as created_date,
        created.category_id,
        created.suggested_category_id,
        created.price,
        created.currency,
        created.title,
        created.description,
        created.suggested_category_id is not null as suggestion_shown,
        coalesce(created.category_id = created.suggested_category_id, false)
            as suggestion_accepted,
        coalesce(changes_within_7_days.changes, 0) > 0 as changed_within_7_days,
        coalesce(changes_within_7_days.last_category_id, created.category_id)
            as category_id_after_7_days,
        batches.last_batch_date
    from created
    left join changes_within_7_days on created.listing_id = changes_within_7_days.listing_id
    inner join batches on created.listing_id = batches.listing_id

)

select
    *,
    {{ row_hash() }} as row_hash
from final
