-- The engine's own limit for the transform: the SPEC marts computed straight from the raw
-- Parquet files in one DuckDB script, with no dbt, no incremental logic, no layers and no tests.
-- {raw} is replaced with the raw events glob, {lake} with the lake folder.
create or replace temp table events as
select
    event_id, event_type, occurred_at, event_date, user_id, platform,
    p[1] ->> '$' as draft_id,
    cast(p[2] ->> '$' as bigint) as listing_id,
    cast(p[3] ->> '$' as bigint) as category_id,
    cast(p[4] ->> '$' as bigint) as suggested_category_id,
    p[5] ->> '$' as product,
    p[6] ->> '$' as currency,
    cast(p[7] ->> '$' as decimal(18, 2)) as amount,
    p[8] ->> '$' as variant,
    p[9] ->> '$' as experiment_id,
    cast(p[10] ->> '$' as bigint) as new_category_id,
    cast(p[11] ->> '$' as decimal(18, 2)) as price,
    p[12] ->> '$' as title,
    p[13] ->> '$' as description
from (
    select *, json_extract(properties, [
        '$.draft_id', '$.listing_id', '$.category_id', '$.suggested_category_id', '$.product',
        '$.currency', '$.amount', '$.variant', '$.experiment_id', '$.new_category_id',
        '$.price', '$.title', '$.description'
    ]) as p
    from read_parquet('{raw}', hive_partitioning = true)
    qualify row_number() over (partition by event_id, event_date order by batch_date) = 1
);

create or replace temp macro normal_cdf_tail(z) as (
    (1 / (1 + 0.5 * z)) * exp(
        -z * z - 1.26551223 + (1 / (1 + 0.5 * z)) * (1.00002368
        + (1 / (1 + 0.5 * z)) * (0.37409196 + (1 / (1 + 0.5 * z)) * (0.09678418
        + (1 / (1 + 0.5 * z)) * (-0.18628806 + (1 / (1 + 0.5 * z)) * (0.27886807
        + (1 / (1 + 0.5 * z)) * (-1.13520398 + (1 / (1 + 0.5 * z)) * (1.48851587
        + (1 / (1 + 0.5 * z)) * (-0.82215223 + (1 / (1 + 0.5 * z)) * 0.17087277))))))))
    )
);

create or replace temp macro two_sided_p(x) as normal_cdf_tail(abs(x) / sqrt(2));

create or replace temp macro redact(t) as regexp_replace(
    regexp_replace(t, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[email]', 'g'),
    '(\+?\(?\d[\d\s()./-]{5,}\d)', '[phone]', 'g'
);

create or replace temp macro pseudonymise(k) as
    case when k is not null then 'p_' || left(sha256('bench-key:' || k), 24) end;

create or replace temp table active_users_daily as
with activity as (
    select distinct event_date as activity_date, platform, user_id from events where user_id is not null
)
select d.activity_date, coalesce(a.platform, 'all') as platform,
    count(distinct a.user_id) filter (where a.activity_date = d.activity_date) as dau,
    count(distinct a.user_id) filter (where a.activity_date > d.activity_date - 7) as wau,
    count(distinct a.user_id) as mau
from (select distinct activity_date from activity) d
join activity a on a.activity_date > d.activity_date - 28 and a.activity_date <= d.activity_date
group by grouping sets ((d.activity_date, a.platform), (d.activity_date));

create or replace temp table listings as
select listing_id, min(occurred_at) as created_at, arg_min(category_id, occurred_at) as category_id,
    arg_min(suggested_category_id, occurred_at) as suggested_category_id,
    arg_min(user_id, occurred_at) as seller_id, arg_min(draft_id, occurred_at) as draft_id,
    arg_min(price, occurred_at) as price, arg_min(currency, occurred_at) as currency,
    arg_min(title, occurred_at) as title, arg_min(description, occurred_at) as description
from events where event_type = 'listing_created' group by listing_id;

create or replace temp table listing_facts as
with changes as (
    select l.listing_id, count(*) as changes,
        arg_max(e.new_category_id, e.occurred_at) as last_category_id
    from listings l
    join events e on e.event_type = 'listing_category_changed' and e.listing_id = l.listing_id
        and e.occurred_at between l.created_at and l.created_at + interval 7 day
    group by l.listing_id
),
contacts as (
    select l.listing_id, count(*) as contacts, min(e.occurred_at) as first_contact_at,
        count(*) filter (where e.occurred_at <= l.created_at + interval 7 day) as contacts_within_7_days
    from listings l
    join events e on e.event_type = 'contact_initiated' and e.listing_id = l.listing_id
        and e.occurred_at >= l.created_at
    group by l.listing_id
)
select l.*, cast(l.created_at as date) as created_date,
    coalesce(c.changes, 0) > 0 as changed_within_7_days,
    coalesce(c.last_category_id, l.category_id) as category_id_after_7_days,
    l.suggested_category_id is not null as suggestion_shown,
    l.category_id = l.suggested_category_id as suggestion_accepted,
    coalesce(k.contacts, 0) as contacts, k.first_contact_at,
    coalesce(k.contacts_within_7_days, 0) as contacts_within_7_days,
    coalesce(k.contacts_within_7_days, 0) > 0 as contacted_within_7_days
from listings l left join changes c using (listing_id) left join contacts k using (listing_id);

create or replace temp table listings_daily as
select created_date, category_id, count(*) as listings_created
from listing_facts group by all;

create or replace temp table drafts as
with s as (
    select draft_id, min(occurred_at) as started_at, arg_min(user_id, occurred_at) as user_id
    from events where event_type = 'listing_creation_started' group by 1
),
c as (select draft_id, min(occurred_at) as created_at from events where event_type = 'listing_created' group by 1)
select s.*, coalesce(c.created_at between s.started_at and s.started_at + interval 24 hour, false)
    as completed_within_24h
from s left join c using (draft_id);

create or replace temp table listing_funnel_daily as
select cast(started_at as date) as funnel_date, count(*) as creations_started,
    count(*) filter (where completed_within_24h) as listings_created,
    round(count(*) filter (where completed_within_24h) / count(*), 6) as completion_rate
from drafts group by 1;

create or replace temp table contacts_daily as
select event_date as contact_date, count(*) as contacts, count(distinct listing_id) as listings_contacted
from events where event_type = 'contact_initiated' group by 1;

create or replace temp table listing_contacts_daily as
select created_date, count(*) as new_listings,
    count(*) filter (where contacted_within_7_days) as listings_contacted_within_7_days,
    round(count(*) filter (where contacted_within_7_days) / count(*), 6) as contacted_within_7_days_rate,
    sum(contacts_within_7_days) as contacts_within_7_days,
    round(sum(contacts_within_7_days) / count(*), 6) as contacts_per_listing
from listing_facts group by 1;

create or replace temp table promotion_revenue_daily as
select event_date as purchase_date, product, currency, count(*) as purchases, sum(amount) as revenue
from events where event_type = 'promotion_purchased' group by all;

create or replace temp table category_quality_daily as
select created_date, count(*) as new_listings,
    count(*) filter (where changed_within_7_days) as wrong_category_listings,
    round(count(*) filter (where changed_within_7_days) / count(*), 6) as wrong_category_rate,
    count(*) filter (where suggestion_shown) as suggestions_shown,
    count(*) filter (where suggestion_accepted) as suggestions_accepted,
    round(count(*) filter (where suggestion_accepted)
        / nullif(count(*) filter (where suggestion_shown), 0), 6) as acceptance_rate
from listing_facts group by 1;

create or replace temp table experiment_results as
with exposures as (
    select experiment_id, user_id, arg_min(variant, occurred_at) as variant,
        min(occurred_at) as first_exposed_at
    from events where event_type = 'experiment_exposure' and user_id is not null group by all
),
units as (
    select x.experiment_id, x.variant, x.user_id, 'completion_rate' as metric,
        count(d.draft_id) as denominator,
        count(d.draft_id) filter (where d.completed_within_24h) as numerator
    from exposures x left join drafts d on x.user_id = d.user_id and x.first_exposed_at <= d.started_at
    group by all
    union all
    select x.experiment_id, x.variant, x.user_id, m.name,
        count(l.listing_id) filter (where m.name = 'wrong_category_rate' or l.suggestion_shown),
        count(l.listing_id) filter (where (m.name = 'wrong_category_rate' and l.changed_within_7_days)
            or (m.name = 'acceptance_rate' and l.suggestion_accepted))
    from exposures x
    cross join (values ('wrong_category_rate'), ('acceptance_rate')) m (name)
    left join listing_facts l on x.user_id = l.seller_id and x.first_exposed_at <= l.created_at
    group by all
),
v as (
    select experiment_id, variant, metric, count(*) as exposed_users,
        sum(numerator)::double / nullif(sum(denominator), 0) as value,
        (var_samp(numerator::double)
            - 2 * (sum(numerator)::double / nullif(sum(denominator), 0)) * covar_samp(numerator::double, denominator::double)
            + power(sum(numerator)::double / nullif(sum(denominator), 0), 2) * var_samp(denominator::double))
        / (count(*) * power(avg(denominator::double), 2)) as variance
    from units group by all
),
srm as (
    select experiment_id, sum(power(exposed_users - total / 2.0, 2) / (total / 2.0)) as chi_square
    from (
        select experiment_id, exposed_users, sum(exposed_users) over (partition by experiment_id) as total
        from v where metric = 'completion_rate'
    ) group by 1
)
select v.experiment_id, v.variant, v.metric, v.exposed_users, v.value,
    v.value - 1.959964 * sqrt(v.variance) as ci_low, v.value + 1.959964 * sqrt(v.variance) as ci_high,
    v.value - c.value as diff_vs_control,
    case when v.variant <> 'control' then two_sided_p((v.value - c.value) / nullif(sqrt(v.variance + c.variance), 0)) end as p_value,
    two_sided_p(sqrt(srm.chi_square)) as srm_p_value
from v join v c on v.experiment_id = c.experiment_id and v.metric = c.metric and c.variant = 'control'
join srm on v.experiment_id = srm.experiment_id;

create or replace temp table category_training_set as
select listing_id, redact(title) as title, redact(description) as description,
    category_id_after_7_days as category_id,
    case when md5_number(cast(listing_id as varchar)) % 10 < 8 then 'train' else 'validation' end as split
from listing_facts;

create or replace temp table users as
select pseudonymise(user_id) as user_key, user_id, email, phone, full_name, country, signup_at, is_seller
from read_parquet('{lake}/raw/operational/users/extracted_date=*/*.parquet', hive_partitioning = true)
qualify row_number() over (partition by user_id order by updated_at desc, extracted_date desc) = 1;

create or replace temp table categories as
select * from read_parquet('{lake}/raw/operational/categories/extracted_date=*/*.parquet', hive_partitioning = true)
qualify row_number() over (partition by category_id order by extracted_date desc) = 1;
