{#- The latest version of every user from the operational database, with personal data. Only
    the pii_reader role sees it. -#}
with versions as (

    select * from {{ ref('stg_operational__users') }}

),

final as (

    select
        user_id,
        email,
        phone,
        full_name,
        country,
        signup_at,
        is_seller,
        updated_at
    from versions
    qualify
        row_number() over (
            partition by user_id order by updated_at desc, extracted_date desc
        ) = 1

)

select * from final
