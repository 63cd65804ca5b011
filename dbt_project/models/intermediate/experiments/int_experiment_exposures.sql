{#- Each user's first exposure to each experiment.

    Incremental by user: a run rebuilds, each from all of its exposures, the (experiment, user)
    pairs its landing batch exposed, so a late exposure can never leave a user in the wrong
    variant, and the pairs exposed but without a row (the rows of its own batch that an earlier
    run of the date built are deleted first: see forget_rows_of_batch). No other pair's
    exposures changed. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['experiment_id', 'user_id'],
        pre_hook="{{ forget_rows_of_batch('last_batch_date') }}",
    )
}}

with events as (

    select * from {{ ref('int_marketplace_events') }}
    where event_type = 'experiment_exposure' and user_id is not null

),

{% if is_incremental() %}

    to_rebuild as (

        select
            experiment_id,
            user_id
        from events
        where batch_date = {{ new_batch_date() }}
        union
        select
            events.experiment_id,
            events.user_id
        from events
        where not exists (
            select 1
            from {{ this }} as built
            where
                built.experiment_id = events.experiment_id
                and built.user_id = events.user_id
        )

    ),

{% endif %}

final as (

    select
        events.experiment_id,
        events.user_id,
        arg_min(events.variant, events.occurred_at) as variant,
        min(events.occurred_at) as first_exposed_at,
        count(distinct events.variant) as variants_seen,
        max(events.batch_date) as last_batch_date
    from events
    {% if is_incremental() %}
        inner join to_rebuild
            on
                events.experiment_id = to_rebuild.experiment_id
                and events.user_id = to_rebuild.user_id
    {% endif %}
    group by events.experiment_id, events.user_id

)

select * from final
