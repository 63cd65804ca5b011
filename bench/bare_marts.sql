-- The engine's own limit for the transform: the SPEC marts computed straight from the raw
-- Parquet files in one DuckDB script, with no dbt, no incremental logic and no tests.
-- {raw} is replaced with the raw events glob.
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
    p[8] ->> '$' as variant
from (
    select *, json_extract(properties, [
        '$.draft_id', '$.listing_id', '$.category_id', '$.suggested_category_id', '$.product',
        '$.currency', '$.amount', '$.variant'
    ]) as p
    from read_parquet('{raw}', hive_partitioning = true)
    qualify row_number() over (partition by event_id, event_date order by batch_date) = 1
);

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
    arg_min(suggested_category_id, occurred_at) as suggested_category_id
from events where event_type = 'listing_created' group by listing_id;

create or replace temp table listings_daily as
select cast(created_at as date) as created_date, category_id, count(*) as listings_created
from listings group by all;

create or replace temp table listing_funnel_daily as
with s as (select draft_id, min(occurred_at) as t from events where event_type = 'listing_creation_started' group by 1),
c as (select draft_id, min(occurred_at) as t from events where event_type = 'listing_created' group by 1)
select cast(s.t as date) as funnel_date, count(*) as creations_started,
    count(*) filter (where c.t <= s.t + interval 24 hour) as listings_created
from s left join c using (draft_id) group by 1;

create or replace temp table contacts_daily as
select event_date, count(*) as contacts, count(distinct listing_id) as listings_contacted
from events where event_type = 'contact_initiated' group by 1;

create or replace temp table promotion_revenue_daily as
select event_date, product, currency, count(*) as purchases, sum(amount) as revenue
from events where event_type = 'promotion_purchased' group by all;

create or replace temp table category_quality_daily as
with changes as (
    select listing_id, occurred_at from events where event_type = 'listing_category_changed'
)
select cast(l.created_at as date) as created_date, count(*) as new_listings,
    count(*) filter (where exists (
        select 1 from changes c where c.listing_id = l.listing_id
        and c.occurred_at between l.created_at and l.created_at + interval 7 day
    )) as wrong_category_listings,
    count(*) filter (where suggested_category_id is not null) as suggestions_shown,
    count(*) filter (where category_id = suggested_category_id) as suggestions_accepted
from listings l group by 1;

create or replace temp table experiment_results as
select variant, count(distinct user_id) as exposed_users
from events where event_type = 'experiment_exposure' group by 1;
