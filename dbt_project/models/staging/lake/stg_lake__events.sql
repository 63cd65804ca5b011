{#- The one place events are typed and deduplicated: a view over the raw lake's Parquet files,
    so that a model reading one date's events reads only that date's partitions, and a day's
    transform never copies the events it has already seen. A re-delivered record is dropped by an
    anti-join with `stg_lake__event_redeliveries`; the JSON properties are parsed for the rows a
    model reads. With `run_date` set, the view holds the batches up to that date only, so a
    version published for a date does not depend on batches that landed after it. The
    properties object as sent stays in the raw lake. -#}
{{ config(materialized='view') }}

with source as (

    select * from {{ source('lake', 'events') }}
    {% if var('run_date') is not none %}
        where batch_date <= date '{{ var("run_date") }}'
    {% endif %}

),

deduplicated as (

    select source.*
    from source
    where not exists (
        select 1
        from {{ ref('stg_lake__event_redeliveries') }} as redelivered
        where
            redelivered.batch_date = source.batch_date
            and redelivered.source_file = source.source_file
            and redelivered.line_number = source.line_number
    )

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
