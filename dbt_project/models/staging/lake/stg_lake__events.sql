{#- The one place events are typed and deduplicated. Incremental (not a view, unlike the other
    staging models): deduplication must know what earlier batches already delivered, and the
    JSON properties are parsed once here instead of in every downstream model. The properties
    object as sent stays in the raw lake. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=before_begin(
            "{% if is_incremental() %}delete from {{ this }} where batch_date = date '{{ var('run_date') }}'{% endif %}"
        ),
    )
}}

with source as (

    select * from {{ source('lake', 'events') }}
    {% if is_incremental() %}
        where batch_date = date '{{ var("run_date") }}'
    {% endif %}

),

redelivered as (

    -- The few events delivered more than once, found on the narrow key columns: the wide
    -- records then pass through a cheap filter instead of a window over every column.
    select
        event_id,
        event_date,
        min((batch_date, source_file, line_number)) as first_delivery
    from source
    group by event_id, event_date
    having count(*) > 1

),

deduplicated as (

    select source.*
    from source
    left join redelivered
        on
            source.event_id = redelivered.event_id
            and source.event_date = redelivered.event_date
    where
        (
            redelivered.event_id is null
            or (source.batch_date, source.source_file, source.line_number)
            = redelivered.first_delivery
        )
        {% if is_incremental() %}
            -- a re-delivery of an event an earlier batch brought; late events reach back
            and not exists (
                select 1
                from {{ this }} as loaded
                where
                    loaded.event_id = source.event_id
                    and loaded.event_date = cast(source.event_date as date)
                    and loaded.event_date
                    >= date '{{ var("run_date") }}' - interval {{ var('late_days') }} day
            )
        {% endif %}

),

renamed as (

    select
        event_id,
        event_type,
        occurred_at,
        cast(event_date as date) as event_date,
        user_id,
        anonymous_id,
        session_id,
        platform,
        app_version,
        cast(batch_date as date) as batch_date,
        source_file,
        line_number,
        -- one parse of the properties for every field; strings come back unquoted
        json_extract_string(
            properties,
            [
                '$.referrer', '$.query', '$.category_id', '$.results_count', '$.listing_id',
                '$.draft_id', '$.suggested_category_id', '$.model_version', '$.score', '$.price',
                '$.currency', '$.title', '$.description', '$.old_category_id',
                '$.new_category_id', '$.seller_id', '$.channel', '$.product', '$.amount',
                '$.experiment_id', '$.variant'
            ]
        ) as p
    from deduplicated

),

typed as (

    select
        event_id,
        event_type,
        occurred_at,
        event_date,
        user_id,
        anonymous_id,
        session_id,
        platform,
        app_version,
        p[1] as referrer,
        p[2] as search_query,
        cast(p[3] as bigint) as category_id,
        cast(p[4] as bigint) as results_count,
        cast(p[5] as bigint) as listing_id,
        p[6] as draft_id,
        cast(p[7] as bigint) as suggested_category_id,
        p[8] as model_version,
        cast(p[9] as double) as suggestion_score,
        cast(p[10] as decimal(18, 2)) as price,
        p[11] as currency,
        p[12] as title,
        p[13] as description,
        cast(p[14] as bigint) as old_category_id,
        cast(p[15] as bigint) as new_category_id,
        p[16] as seller_id,
        p[17] as contact_channel,
        p[18] as promotion_product,
        cast(p[19] as decimal(18, 2)) as amount,
        p[20] as experiment_id,
        p[21] as variant,
        batch_date,
        source_file,
        line_number
    from renamed

)

select * from typed
