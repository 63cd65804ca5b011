{#- `all` counts each user once across platforms, so for every date and measure it lies between
    the largest single platform and the sum of the platforms. Fails on a broken grouping set. -#}
with active_users as (

    select * from {{ ref('active_users_daily') }}

),

platforms as (

    select
        activity_date,
        max(dau) as max_dau,
        sum(dau) as sum_dau,
        max(wau) as max_wau,
        sum(wau) as sum_wau,
        max(mau) as max_mau,
        sum(mau) as sum_mau
    from active_users
    where platform <> 'all'
    group by activity_date

),

final as (

    select
        active_users.activity_date,
        active_users.dau,
        active_users.wau,
        active_users.mau
    from active_users
    left join platforms on active_users.activity_date = platforms.activity_date
    where
        active_users.platform = 'all'
        and (
            platforms.activity_date is null
            or active_users.dau not between platforms.max_dau and platforms.sum_dau
            or active_users.wau not between platforms.max_wau and platforms.sum_wau
            or active_users.mau not between platforms.max_mau and platforms.sum_mau
        )

)

select * from final
