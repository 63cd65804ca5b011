{#- One row per landing batch: the first and the last date of its events. The incremental models
    that rebuild dates read here where the batch they add begins (rebuild_from), instead of
    listing every Parquet file of the lake for it on each model.

    Incremental: a run adds its landing batch (a re-run of a date replaces it). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='batch_date',
    )
}}

with events as (

    select * from {{ ref('stg_lake__events') }}
    {% if is_incremental() %}
        where batch_date = {{ new_batch_date() }}
    {% endif %}

),

final as (

    select
        batch_date,
        min(event_date) as first_event_date,
        max(event_date) as last_event_date
    from events
    group by batch_date

)

select * from final
