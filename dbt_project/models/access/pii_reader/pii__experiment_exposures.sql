{#- Who saw which variant, with the raw user id. -#}
{{ config(alias='experiment_exposures') }}

select
    experiment_id,
    user_id,
    variant,
    first_exposed_at
from {{ ref('int_experiment_exposures') }}
