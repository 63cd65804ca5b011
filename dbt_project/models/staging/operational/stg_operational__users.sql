with source as (

    select * from {{ source('operational', 'users') }}

),

renamed as (

    select
        user_id,
        email,
        phone,
        full_name,
        country,
        cast(signup_at as timestamptz) as signup_at,
        cast(is_seller as boolean) as is_seller,
        cast(updated_at as timestamptz) as updated_at,
        cast(extracted_date as date) as extracted_date
    from source

)

select * from renamed
