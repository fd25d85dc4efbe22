-- The report's headline figures for one period ($start .. $end, days inclusive): who used AI (distinct
-- pseudonymised users over the whole period, from user_daily), who used unsanctioned AI (shadow or
-- forbidden), the population those shares are taken of, services, events, uploads and blocked attempts.
-- `employees` is users.csv when it was given (then only its members count in `*_employees`), else
-- everyone a log named in the period. `logged_events`: whether the lake holds anything for the period
-- at all (a comparison with a period before the first log would be meaningless).
with user_daily as (
    select user_id, service, host, verdict from user_daily where day between $start and $end
),

usage as (
    select * from usage_daily where day between $start and $end
),

directory as (
    select distinct user_id from user_departments where user_id is not null
),

seen as (
    select distinct user_name as user_id from lake_events
    where day between $start and $end and user_name is not null
),

population as (
    select user_id from directory
    union all
    select user_id from seen where not exists (select 1 from directory)
),

first_days as (
    select coalesce(service, host) as service_key, min(day) as first_day from usage_daily group by all
),

final as (
    select
        (select count(*) from lake_events where day between $start and $end) as logged_events,
        (select count(*) from directory) > 0 as from_directory,
        (select count(distinct user_id) from population) as employees,
        (select count(distinct user_id) from user_daily) as ai_users,
        (select unsanctioned_users(user_id, verdict) from user_daily) as unsanctioned_users,
        (select count(distinct u.user_id) from user_daily as u semi join population as p using (user_id))
            as ai_employees,
        (select count(distinct u.user_id) from user_daily as u semi join population as p using (user_id)
            where unsanctioned(u.verdict)) as unsanctioned_employees,
        (select count(distinct coalesce(service, host)) from usage) as services,
        (select count(distinct coalesce(service, host)) from usage where unsanctioned(verdict))
            as unsanctioned_services,
        (select count(*) from first_days where first_day between $start and $end) as new_services,
        (select count(distinct department) from usage where department is not null) as departments,
        (select cast(coalesce(sum(events), 0) as bigint) from usage) as events,
        (select unsanctioned_bytes_out(bytes_out, verdict) from usage) as unsanctioned_bytes_out,
        (select cast(coalesce(sum(blocked), 0) as bigint) from usage) as blocked
)

select * from final
