{#- Incremental models rebuild only the dates the new landing batch touched.

    A batch for day D holds events of D and up to `late_days` days before it. `rebuild_from`
    returns the first date to rebuild as a literal (computed once at compile time, so DuckDB can
    prune by it), moved back by `extra_days` for metrics whose window reaches back further (a
    listing created 7 days before a late category change, a draft started the day before its
    completion). On a full refresh every date is rebuilt. The batch's first date is read from
    int_landing_batches (a model calling this macro declares it: `-- depends_on:`), not from
    the lake, whose every file DuckDB would list for each model.

    An incremental run or build without `run_date` is an error. Commands that only compile (docs
    generate, compile, show) render the full-refresh cut-off instead, so the docs site can be
    built with the same flags as a build. -#}
{% macro rebuild_from(extra_days=0) -%}
    {%- set incremental = is_incremental() and execute -%}
    {%- if incremental and var('run_date') is none and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error(
            "incremental runs need --vars 'run_date: YYYY-MM-DD'"
        ) }}
    {%- endif -%}
    {%- if incremental and var('run_date') is not none -%}
        {%- set query -%}
            select coalesce(min(first_event_date), date '{{ var("run_date") }}')
            from {{ ref('int_landing_batches') }}
            where batch_date = date '{{ var("run_date") }}'
        {%- endset -%}
        {%- set first = run_query(query).columns[0].values()[0] -%}
        date '{{ first }}' - interval {{ extra_days }} day
    {%- else -%}
        date '1970-01-01'
    {%- endif -%}
{%- endmacro %}

{#- The landing batch this run adds, as a date literal, for incremental models that add or
    rebuild by batch (or by the keys a batch touched) rather than by date. Only called in an
    incremental run: as with `rebuild_from`, a run or build without `run_date` is an error. -#}
{% macro new_batch_date() -%}
    {%- if var('run_date') is none and execute and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error(
            "incremental runs need --vars 'run_date: YYYY-MM-DD'"
        ) }}
    {%- endif -%}
    date '{{ var("run_date") }}'
{%- endmacro %}

{#- A pre-hook for incremental models that keep one row per key (a listing, a draft, a user)
    and rebuild the keys their landing batch touched. Each row records the batch it was built
    from in `column`. A date can be run again with its batch delivered anew (a corrected
    delivery replaces a bad one): the run first deletes the rows built from that batch (or a
    later one), so that the model builds them again from the events there are now, and a key
    left without events is gone. Nothing to delete on a batch's first run. -#}
{% macro forget_rows_of_batch(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} >= {{ new_batch_date() }}
    {%- endif -%}
{%- endmacro %}

{#- The keys an incremental model kept by key (a listing, a draft) rebuilds in a run: those the
    landing batch has events of `event_types` for, and those with a `first_event_type` event
    but no row yet (see forget_rows_of_batch). A subquery for `<key> in (...)`. -#}
{% macro keys_to_rebuild(key, event_types, first_event_type) -%}
    select batch_events.{{ key }}
    from {{ ref('int_marketplace_events') }} as batch_events
    where
        batch_events.event_type in ('{{ event_types | join("', '") }}')
        and batch_events.batch_date = {{ new_batch_date() }}
    union all
    select first_events.{{ key }}
    from {{ ref('int_marketplace_events') }} as first_events
    where
        first_events.event_type = '{{ first_event_type }}'
        and not exists (
            select 1
            from {{ this }} as built
            where built.{{ key }} = first_events.{{ key }}
        )
{%- endmacro %}
