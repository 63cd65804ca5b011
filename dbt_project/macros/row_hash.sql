{% macro row_hash(bookkeeping=['last_batch_date']) -%}
    {#- The hash of the row over all its columns but its bookkeeping (the batch it was last
        built from): the same content gives the same hash, however often it is rebuilt.
        dataplatform.publish.lineage.BOOKKEEPING names the same columns. -#}
    hash(*columns(* exclude ({{ bookkeeping | join(', ') }})))
{%- endmacro %}
