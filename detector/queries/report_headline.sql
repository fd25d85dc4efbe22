-- The report's headline figures for one period ($start .. $end, days inclusive): who used AI (distinct
-- people over the whole period, from user_daily: a user's pseudonym, or a client device where no user could
-- be attributed, as the dashboard counts them), who used unsanctioned AI (shadow or forbidden), the
-- population those shares are taken of, services, events, uploads and blocked attempts. `employees` is
-- users.csv when it was given (then only its members count in `*_employees`), else everyone seen in any log
-- of the period (the macro `population`, db.py, as the departments' table and the dashboard count them).
-- `logged_events`: whether the lake holds anything for the period at all (a comparison with a period before
-- the first log would be meaningless).
with period_use as (
    select person, in_population, service, host, verdict from user_daily where day between $start and $end
),

usage as (
    select * from usage_daily where day between $start and $end
),

directory as (
    select distinct user_id from user_departments where user_id is not null
),

counted as (
    select person from population($start, $end)
),

first_days as (
    select coalesce(service, host) as service_key, min(day) as first_day from usage_daily group by all
),

final as (
    select
        (select count(*) from lake_events where day between $start and $end) as logged_events,
        (select count(*) from directory) > 0 as from_directory,
        (select count(distinct person) from counted) as employees,
        (select count(distinct person) from period_use) as ai_users,
        (select unsanctioned_people(person, verdict) from period_use) as unsanctioned_users,
        (select count(distinct person) from period_use where in_population) as ai_employees,
        (select count(distinct person) from period_use where in_population and unsanctioned(verdict))
            as unsanctioned_employees,
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
