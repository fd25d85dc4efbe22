-- AI use per department over one period: distinct people (from user_daily, so that a person counts once
-- over the period: a user, or a client device where no user could be attributed, as the dashboard counts
-- them), those using unsanctioned AI (shadow or forbidden), the department's head count (users.csv when it
-- was given, else the people seen in any log of the period: the macro `population`, db.py, as the dashboard's)
-- and the volumes from usage_daily. Events no department could be attributed to are '(unknown)'. Departments
-- of users.csv without any AI use are listed too, with zeros.
with period_use as (
    select coalesce(department, '(unknown)') as department, person, verdict
    from user_daily where day between $start and $end
),

usage as (
    select coalesce(department, '(unknown)') as department, service, host, verdict, events, bytes_out, blocked
    from usage_daily where day between $start and $end
),

directory as (
    select department, count(distinct person) as employees from population($start, $end) group by all
),

people as (
    select
        department,
        count(distinct person) as ai_users,
        unsanctioned_people(person, verdict) as unsanctioned_users
    from period_use
    group by department
),

volume as (
    select
        department,
        count(distinct coalesce(service, host)) as services,
        cast(sum(events) as bigint) as events,
        unsanctioned_bytes_out(bytes_out, verdict) as unsanctioned_bytes_out,
        cast(sum(blocked) as bigint) as blocked
    from usage
    group by department
),

departments as (
    select department from directory
    union
    select department from people
    union
    select department from volume
),

final as (
    select
        d.department,
        r.employees,
        coalesce(p.ai_users, 0) as ai_users,
        coalesce(p.unsanctioned_users, 0) as unsanctioned_users,
        coalesce(v.services, 0) as services,
        coalesce(v.events, 0) as events,
        coalesce(v.unsanctioned_bytes_out, 0) as unsanctioned_bytes_out,
        coalesce(v.blocked, 0) as blocked
    from departments as d
    left join directory as r using (department)
    left join people as p using (department)
    left join volume as v using (department)
    order by d.department = '(unknown)', coalesce(p.unsanctioned_users, 0) desc, coalesce(p.ai_users, 0) desc,
        d.department
)

select * from final
