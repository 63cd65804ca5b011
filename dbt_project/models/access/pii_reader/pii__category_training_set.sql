{#- Text is already redacted in the mart: contact details never leave it. -#}
{{ config(alias='category_training_set') }}

select
    listing_id,
    title,
    description,
    category_id,
    split,
    version_id
from {{ ref('category_training_set') }}
