{#- Aggregates hold no personal data: the role sees the mart as it is. -#}
{{ config(alias='experiment_results') }}

select * from {{ ref('experiment_results') }}
