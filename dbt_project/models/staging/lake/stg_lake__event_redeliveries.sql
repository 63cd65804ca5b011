{#- The deliveries that are not an event's first: every record of the raw lake that repeats an
    event an earlier record already delivered (same `event_id` and date; the first is the
    earliest batch, file and line). Small (re-deliveries are rare) and narrow, so that
    `stg_lake__events` can stay a view over the raw Parquet files: deduplication is one anti-join
    against this table, and nothing wide is copied into the warehouse.

    Incremental: a run adds the records of its landing batch that repeat an event of the same
    batch or of an earlier one (late events reach back `late_days`). Batches are added in date
    order (the DAGs run one date at a time, catch-up in order). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='batch_date',
    )
}}

with deliveries as (

    select
        event_id,
        event_date,
        batch_date,
        source_file,
        line_number
    from {{ source('lake', 'events') }}
    {% if is_incremental() %}
        where batch_date = date '{{ var("run_date") }}'
    {% endif %}

),

repeated_keys as (

    -- A hash of every (event_id, date) seen more than once: eight bytes a key instead of the
    -- id's text, so 10 M deliveries group in a few hundred MB. A collision only adds a
    -- candidate; the exact comparison below drops it.
    select hash(event_id, event_date) as key_hash
    from deliveries
    group by key_hash
    having count(*) > 1

),

repeats_within as (

    -- every delivery of a repeated event but its first (earliest batch, file, line)
    select
        event_id,
        event_date,
        batch_date,
        source_file,
        line_number
    from deliveries
    where hash(event_id, event_date) in (select repeated_keys.key_hash from repeated_keys)
    qualify
        row_number() over (
            partition by event_id, event_date order by batch_date, source_file, line_number
        ) > 1

)

{% if is_incremental() %}

    ,

    earlier_batches as (

        -- what earlier batches delivered for the dates this batch can touch
        select
            event_id,
            event_date
        from {{ source('lake', 'events') }}
        where
            batch_date < date '{{ var("run_date") }}'
            and batch_date
            >= date '{{ var("run_date") }}' - interval {{ var('late_days') | int + 1 }} day
            and event_date >= date '{{ var("run_date") }}' - interval {{ var('late_days') }} day

    )

{% endif %}

select * from repeats_within
{% if is_incremental() %}
    union
    -- the batch's deliveries of events an earlier batch already delivered
    select * from deliveries
    where exists (
        select 1
        from earlier_batches
        where
            earlier_batches.event_id = deliveries.event_id
            and earlier_batches.event_date = deliveries.event_date
    )
{% endif %}
