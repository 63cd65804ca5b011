with source as (

    select * from {{ source('operational', 'listings') }}

),

renamed as (

    select
        listing_id,
        seller_id,
        category_id,
        title,
        description,
        cast(price as decimal(18, 2)) as price,
        currency,
        status,
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at,
        cast(extracted_date as date) as extracted_date
    from source

)

select * from renamed
