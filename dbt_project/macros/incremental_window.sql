{#- Incremental models rebuild only the dates the new landing batch touched.

    A batch for day D holds events of D and up to `late_days` days before it. `rebuild_from`
    returns the first date to rebuild as a literal (computed once at compile time, so DuckDB can
    prune by it), moved back by `extra_days` for metrics whose window reaches back further (a
    listing created 7 days before a late category change, a draft started the day before its
    completion). On a full refresh every date is rebuilt.

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
            select coalesce(min(event_date), date '{{ var("run_date") }}')
            from {{ source('lake', 'events') }}
            where batch_date = date '{{ var("run_date") }}'
        {%- endset -%}
        {%- set first = run_query(query).columns[0].values()[0] -%}
        date '{{ first }}' - interval {{ extra_days }} day
    {%- else -%}
        date '1970-01-01'
    {%- endif -%}
{%- endmacro %}
