{#- Who saw which variant, with user keys pseudonymised (the same key as seller_key). -#}
{{ config(alias='experiment_exposures') }}

select
    experiment_id,
    {{ pseudonymise('user_id') }} as user_key,
    variant,
    first_exposed_at
from {{ ref('int_experiment_exposures') }}
