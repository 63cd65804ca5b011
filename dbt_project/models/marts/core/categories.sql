{#- The category tree as of the latest extraction, with each leaf's parent name. -#}
with versions as (

    select * from {{ ref('stg_operational__categories') }}

),

latest as (

    select *
    from versions
    where
        extracted_date = (
            select max(all_versions.extracted_date) as latest_extracted_date
            from versions as all_versions
        )

),

final as (

    select
        child.category_id,
        child.category_name,
        child.parent_id,
        parent.category_name as parent_name
    from latest as child
    left join latest as parent on child.parent_id = parent.category_id

)

select * from final
