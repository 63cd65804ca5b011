{#- Each user's first exposure to each experiment. Small (one row per exposed user), rebuilt in
    full on every run so that a late exposure can never leave a user in the wrong variant. -#}
with events as (

    select * from {{ ref('stg_lake__events') }}
    where event_type = 'experiment_exposure' and user_id is not null

),

final as (

    select
        experiment_id,
        user_id,
        arg_min(variant, occurred_at) as variant,
        min(occurred_at) as first_exposed_at,
        count(distinct variant) as variants_seen
    from events
    group by experiment_id, user_id

)

select * from final
