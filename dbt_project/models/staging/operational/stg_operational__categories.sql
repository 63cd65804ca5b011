with source as (

    select * from {{ source('operational', 'categories') }}

),

renamed as (

    select
        category_id,
        cast(parent_id as bigint) as parent_id,
        name as category_name,
        cast(extracted_date as date) as extracted_date
    from source

)

select * from renamed
