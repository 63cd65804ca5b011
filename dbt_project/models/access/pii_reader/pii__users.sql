{#- The operational users table with personal data: for cleared data engineers only. -#}
{{ config(alias='users') }}

select
    user_id,
    email,
    phone,
    full_name,
    country,
    signup_at,
    is_seller,
    updated_at
from {{ ref('users') }}
