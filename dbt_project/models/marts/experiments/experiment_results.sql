{#- Per experiment, variant and metric: exposed users, the metric with its 95 % confidence
    interval, the difference to control with a two-sided p-value, and a sample-ratio-mismatch
    check. The unit of randomisation is the user, so each rate is a ratio of per-user sums and
    its variance comes from the delta method. Assumes two variants with an intended 50/50 split,
    one of them named 'control'. -#}
with exposures as (

    select * from {{ ref('int_experiment_exposures') }}

),

drafts as (

    select * from {{ ref('int_listing_drafts') }}

),

listings as (

    select * from {{ ref('int_listing_lifecycle') }}

),

draft_units as (

    select
        exposures.experiment_id,
        exposures.variant,
        exposures.user_id,
        'completion_rate' as metric,
        count(drafts.draft_id) as denominator,
        count(drafts.draft_id) filter (where drafts.completed_within_24h) as numerator
    from exposures
    left join drafts
        on
            exposures.user_id = drafts.user_id
            and exposures.first_exposed_at <= drafts.started_at
    group by all

),

listing_units as (

    select
        exposures.experiment_id,
        exposures.variant,
        exposures.user_id,
        metric.name as metric,
        count(listings.listing_id) filter (
            where metric.name = 'wrong_category_rate' or listings.suggestion_shown
        ) as denominator,
        count(listings.listing_id) filter (
            where
            (metric.name = 'wrong_category_rate' and listings.changed_within_7_days)
            or (metric.name = 'acceptance_rate' and listings.suggestion_accepted)
        ) as numerator
    from exposures
    cross join (values ('wrong_category_rate'), ('acceptance_rate')) as metric (name)
    left join listings
        on
            exposures.user_id = listings.seller_id
            and exposures.first_exposed_at <= listings.created_at
    group by all

),

units as (

    select * from draft_units
    union all
    select * from listing_units

),

per_variant as (

    select
        experiment_id,
        variant,
        metric,
        count(*) as exposed_users,
        sum(numerator)::double / nullif(sum(denominator), 0) as value,
        avg(denominator::double) as mean_x,
        var_samp(numerator::double) as var_y,
        var_samp(denominator::double) as var_x,
        covar_samp(numerator::double, denominator::double) as cov_xy
    from units
    group by all

),

with_variance as (

    select
        *,
        (var_y - 2 * value * cov_xy + value * value * var_x)
        / (exposed_users * mean_x * mean_x) as value_variance
    from per_variant

),

srm as (

    select
        experiment_id,
        sum(
            power(exposed_users - total / 2.0, 2) / (total / 2.0)
        ) as chi_square
    from (
        select distinct
            experiment_id,
            variant,
            exposed_users,
            sum(exposed_users) over (partition by experiment_id, metric) as total
        from with_variance
        where metric = 'completion_rate'
    ) as variant_sizes
    group by experiment_id

),

compared as (

    select
        variant_row.experiment_id,
        variant_row.variant,
        variant_row.metric,
        variant_row.exposed_users,
        variant_row.value,
        variant_row.value - 1.959964 * sqrt(variant_row.value_variance) as ci_low,
        variant_row.value + 1.959964 * sqrt(variant_row.value_variance) as ci_high,
        variant_row.value - control.value as diff_vs_control,
        sqrt(variant_row.value_variance + control.value_variance) as diff_standard_error,
        (variant_row.value - control.value)
        / nullif(sqrt(variant_row.value_variance + control.value_variance), 0) as z
    from with_variance as variant_row
    inner join with_variance as control
        on
            variant_row.experiment_id = control.experiment_id
            and variant_row.metric = control.metric
            and control.variant = 'control'

),

final as (

    select
        compared.experiment_id,
        compared.variant,
        compared.metric,
        compared.exposed_users,
        round(compared.value, 6) as value,
        round(compared.ci_low, 6) as ci_low,
        round(compared.ci_high, 6) as ci_high,
        round(compared.diff_vs_control, 6) as diff_vs_control,
        case when compared.variant <> 'control' then round(
            compared.diff_vs_control - 1.959964 * compared.diff_standard_error, 6
        ) end as diff_ci_low,
        case when compared.variant <> 'control' then round(
            compared.diff_vs_control + 1.959964 * compared.diff_standard_error, 6
        ) end as diff_ci_high,
        case
            when compared.variant <> 'control'
                then round({{ two_sided_p_value('compared.z') }}, 6)
        end as p_value,
        -- chi-square with one degree of freedom: P(X > c) = 2 * (1 - Phi(sqrt(c)))
        round({{ two_sided_p_value('sqrt(srm.chi_square)') }}, 6) as srm_p_value
    from compared
    inner join srm on compared.experiment_id = srm.experiment_id

)

select * from final
