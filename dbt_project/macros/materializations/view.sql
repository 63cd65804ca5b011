{#- dbt's default view materialization, made cheap on DuckDB for a pipeline that rebuilds every
    day. A view whose compiled SQL is unchanged since it was last created is left as it is:
    DuckDB binds a view's query when the view is read, so it sees the tables rebuilt under it.
    The view carries the fingerprint of its SQL as its comment. A changed view is replaced by
    one `create or replace view`, which DuckDB applies atomically, instead of the default's
    create-aside, rename, rename, drop. -#}
{%- materialization view, adapter='duckdb' -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set fingerprint = 'dbt sql md5 ' ~ local_md5(sql) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set unchanged = namespace(value=false) -%}
    {%- set reusable = existing_relation is not none and existing_relation.is_view -%}
    {%- if reusable and not should_full_refresh() -%}
        {%- set stored = run_query(
            "select comment from duckdb_views() where database_name = '" ~ target_relation.database
            ~ "' and schema_name = '" ~ target_relation.schema
            ~ "' and view_name = '" ~ target_relation.identifier ~ "'"
        ) -%}
        {%- set unchanged.value = stored.rows | length == 1 and stored.rows[0][0] == fingerprint -%}
    {%- endif -%}

    {%- if unchanged.value -%}
        {%- call noop_statement('main', 'UNCHANGED') -%}{%- endcall -%}
    {%- else -%}
        {%- if existing_relation is not none and not existing_relation.is_view -%}
            {{ drop_relation_if_exists(existing_relation) }}
        {%- endif -%}
        {%- call statement('main') -%}
            create or replace view {{ target_relation }} as (
                {{ sql }}
            )
        {%- endcall -%}
        {%- call statement('fingerprint') -%}
            comment on view {{ target_relation }} is '{{ fingerprint }}'
        {%- endcall -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}
