-- The Overview's headline figures for one period under the filters: people using AI (users, and client
-- devices for traffic no user could be attributed to) and using unsanctioned AI (shadow or forbidden);
-- the same counted only over the population of the shares (`in_population`: users.csv when given);
-- people per verdict (so that uploads of fewer than min_group_size people can be hidden); services in
-- use, services first seen in the period, events, and data uploaded per verdict.
with usage as (
    select
        day,
        coalesce(department, '(unknown)') as department,
        coalesce(service, host) as service_key,
        coalesce(category, '(unknown)') as category,
        verdict,
        events,
        bytes_out
    from usage_daily
),

people as (
    select * from dashboard_user_daily
    where day between $start and $end
        and chosen($departments, department)
        and chosen($categories, category)
        and chosen($verdicts, verdict)
),

filtered as (
    select * from usage
    where chosen($departments, department)
        and chosen($categories, category)
        and chosen($verdicts, verdict)
),

in_period as (
    select * from filtered where day between $start and $end
),

first_days as (
    select service_key, min(day) as first_day from filtered group by service_key
),

final as (
    select
        (select count(distinct person) from people) as ai_people,
        (select count(distinct person) from people where unsanctioned(verdict)) as unsanctioned_people,
        (select count(distinct person) from people where verdict in ('sanctioned', 'tolerated')) as sanctioned_people,
        (select count(distinct person) from people where verdict = 'sanctioned') as people_sanctioned,
        (select count(distinct person) from people where verdict = 'tolerated') as people_tolerated,
        (select count(distinct person) from people where verdict = 'shadow') as people_shadow,
        (select count(distinct person) from people where verdict = 'forbidden') as people_forbidden,
        (select count(distinct person) from people where in_population) as ai_population,
        (select count(distinct person) from people where in_population and unsanctioned(verdict))
            as unsanctioned_population,
        (select count(distinct service_key) from in_period) as services,
        (select count(*) from first_days where first_day between $start and $end) as new_services,
        (select coalesce(sum(events), 0) from in_period) as events,
        (select coalesce(sum(bytes_out), 0) from in_period where verdict = 'sanctioned') as bytes_sanctioned,
        (select coalesce(sum(bytes_out), 0) from in_period where verdict = 'tolerated') as bytes_tolerated,
        (select coalesce(sum(bytes_out), 0) from in_period where verdict = 'shadow') as bytes_shadow,
        (select coalesce(sum(bytes_out), 0) from in_period where verdict = 'forbidden') as bytes_forbidden
)

select * from final
