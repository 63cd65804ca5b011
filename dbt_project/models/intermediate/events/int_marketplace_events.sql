{#- The events the listing, contact, revenue and experiment models read, kept in the warehouse:
    every type but browsing (sessions, searches, listing views) and the model's suggestions, a
    few percent of all events. Reading a property from `stg_lake__events` decompresses the
    properties of every event of the dates read, whatever their type, so a model that looks back
    over days, or over all history, would pay for all of those events every day; here each
    batch's properties are read once, when the batch is added.

    Incremental: a run adds its landing batch's events (deduplicated as in stg_lake__events, so
    a re-delivery is never added twice); a re-run of a date replaces that batch's rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='batch_date',
    )
}}

with events as (

    select * from {{ ref('stg_lake__events') }}
    where
        event_type in (
            'listing_creation_started',
            'listing_created',
            'listing_category_changed',
            'contact_initiated',
            'promotion_purchased',
            'experiment_exposure'
        )
        {% if is_incremental() %}
            and batch_date = {{ new_batch_date() }}
        {% endif %}

),

final as (

    select
        event_id,
        event_type,
        occurred_at,
        event_date,
        user_id,
        platform,
        listing_id,
        draft_id,
        category_id,
        suggested_category_id,
        price,
        currency,
        title,
        description,
        old_category_id,
        new_category_id,
        seller_id,
        contact_channel,
        promotion_product,
        amount,
        experiment_id,
        variant,
        batch_date
    from events

)

select * from final
